import type { MigrationInterface, QueryRunner } from 'typeorm';

/** One Stripe customer per merchant, created once and reused by every checkout of that merchant. */
export class StripeCustomers1732147450000 implements MigrationInterface {
  name = 'StripeCustomers1732147450000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE billing.stripe_customers (
        merchant_id uuid PRIMARY KEY,
        stripe_customer_id text NOT NULL CONSTRAINT stripe_customers_customer_key UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE billing.stripe_customers`);
  }
}
