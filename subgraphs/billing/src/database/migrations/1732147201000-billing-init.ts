import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The tier table only; the billing issue seeds the tiers and adds subscriptions. */
export class BillingInit1732147201000 implements MigrationInterface {
  name = 'BillingInit1732147201000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE SCHEMA IF NOT EXISTS billing`);
    await q.query(`
      CREATE TABLE billing.subscription_tiers (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        code text NOT NULL CONSTRAINT subscription_tiers_code_format CHECK (code ~ '^[a-z0-9_-]{2,64}$'),
        name text NOT NULL,
        description text,
        price_monthly_cents integer NOT NULL CONSTRAINT subscription_tiers_price_monthly_cents_check CHECK (price_monthly_cents >= 0),
        price_annual_cents integer CONSTRAINT subscription_tiers_price_annual_cents_check CHECK (price_annual_cents >= 0),
        currency char(3) NOT NULL DEFAULT 'EUR' CONSTRAINT subscription_tiers_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
        is_active boolean NOT NULL DEFAULT true,
        is_public boolean NOT NULL DEFAULT true,
        display_order integer NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT subscription_tiers_code_key UNIQUE (code)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE billing.subscription_tiers`);
  }
}
