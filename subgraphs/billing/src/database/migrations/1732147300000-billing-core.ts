import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Subscriptions, limits, overrides, history, the feature catalog, add-ons and invoices; seeds the reference
 * tiers (essential €49, professional €99, business €199, enterprise €399) with the limits of capacity-planning.md
 * and binary features rising by tier, and the add-ons of subscription-billing.md.
 */
export class BillingCore1732147300000 implements MigrationInterface {
  name = 'BillingCore1732147300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE billing.subscription_tiers ADD COLUMN stripe_price_monthly_id text, ADD COLUMN stripe_price_annual_id text`);
    await q.query(`
      CREATE TABLE billing.tier_feature_limits (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tier_id uuid NOT NULL REFERENCES billing.subscription_tiers (id) ON DELETE CASCADE,
        feature_code text NOT NULL,
        limit_value integer CONSTRAINT tier_feature_limits_limit_value_check CHECK (limit_value >= 0),
        enabled boolean NOT NULL DEFAULT true,
        CONSTRAINT tier_feature_limits_tier_feature_key UNIQUE (tier_id, feature_code)
      )`);
    await q.query(`
      CREATE TABLE billing.merchant_subscriptions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        merchant_id uuid NOT NULL,
        platform_id uuid NOT NULL,
        merchant_name text NOT NULL,
        tier_id uuid NOT NULL REFERENCES billing.subscription_tiers (id),
        status text NOT NULL CONSTRAINT merchant_subscriptions_status_check
          CHECK (status IN ('TRIAL', 'ACTIVE', 'PAST_DUE', 'CANCELLED', 'EXPIRED')),
        billing_cycle text NOT NULL CONSTRAINT merchant_subscriptions_billing_cycle_check CHECK (billing_cycle IN ('MONTHLY', 'ANNUAL')),
        current_period_start timestamptz NOT NULL,
        current_period_end timestamptz NOT NULL,
        trial_ends_at timestamptz,
        cancel_at_period_end boolean NOT NULL DEFAULT false,
        cancelled_at timestamptz,
        stripe_customer_id text,
        stripe_subscription_id text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT merchant_subscriptions_period_check CHECK (current_period_end > current_period_start),
        CONSTRAINT merchant_subscriptions_merchant_platform_key UNIQUE (merchant_id, platform_id)
      )`);
    await q.query(`CREATE INDEX merchant_subscriptions_tier_idx ON billing.merchant_subscriptions (tier_id)`);
    await q.query(`CREATE INDEX merchant_subscriptions_page_idx ON billing.merchant_subscriptions (merchant_name, id)`);
    await q.query(`CREATE UNIQUE INDEX merchant_subscriptions_stripe_key ON billing.merchant_subscriptions (stripe_subscription_id)`);
    await q.query(`
      CREATE TABLE billing.merchant_feature_overrides (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        merchant_id uuid NOT NULL,
        platform_id uuid NOT NULL,
        feature_code text NOT NULL,
        limit_value integer CONSTRAINT merchant_feature_overrides_limit_value_check CHECK (limit_value >= 0),
        is_enabled boolean NOT NULL,
        CONSTRAINT merchant_feature_overrides_key UNIQUE (merchant_id, platform_id, feature_code)
      )`);
    await q.query(`
      CREATE TABLE billing.subscription_history (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        subscription_id uuid NOT NULL REFERENCES billing.merchant_subscriptions (id) ON DELETE CASCADE,
        change text NOT NULL,
        from_tier_code text,
        to_tier_code text,
        from_status text,
        to_status text,
        reason text,
        actor text NOT NULL,
        changed_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX subscription_history_subscription_idx ON billing.subscription_history (subscription_id, changed_at DESC)`);
    await q.query(`
      CREATE TABLE billing.feature_declarations (
        code text PRIMARY KEY,
        owner text NOT NULL,
        name text NOT NULL,
        description text NOT NULL,
        category text NOT NULL,
        feature_type text NOT NULL CONSTRAINT feature_declarations_type_check CHECK (feature_type IN ('BINARY', 'QUANTITATIVE')),
        scope text NOT NULL CONSTRAINT feature_declarations_scope_check CHECK (scope IN ('STORE', 'MERCHANT')),
        unit text,
        display_order integer NOT NULL DEFAULT 0
      )`);
    await q.query(`
      CREATE TABLE billing.add_on_products (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        code text NOT NULL CONSTRAINT add_on_products_code_key UNIQUE,
        name text NOT NULL,
        category text NOT NULL,
        price_cents integer NOT NULL CHECK (price_cents >= 0),
        currency char(3) NOT NULL DEFAULT 'EUR',
        billing_period text NOT NULL CHECK (billing_period IN ('MONTHLY', 'ANNUAL')),
        stripe_price_id text,
        is_active boolean NOT NULL DEFAULT true,
        display_order integer NOT NULL DEFAULT 0
      )`);
    await q.query(`
      CREATE TABLE billing.store_add_ons (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        store_id uuid NOT NULL,
        merchant_id uuid NOT NULL,
        add_on_code text NOT NULL REFERENCES billing.add_on_products (code),
        status text NOT NULL,
        quantity integer NOT NULL DEFAULT 1 CHECK (quantity >= 1),
        domain_name text,
        stripe_subscription_item_id text,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX store_add_ons_store_idx ON billing.store_add_ons (store_id)`);
    await q.query(`
      CREATE TABLE billing.billing_history (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        merchant_id uuid NOT NULL,
        platform_id uuid NOT NULL,
        stripe_invoice_id text CONSTRAINT billing_history_stripe_invoice_key UNIQUE,
        number text,
        status text NOT NULL,
        amount_due_cents integer NOT NULL CHECK (amount_due_cents >= 0),
        amount_paid_cents integer NOT NULL CHECK (amount_paid_cents >= 0),
        currency char(3) NOT NULL,
        period_start timestamptz,
        period_end timestamptz,
        invoice_pdf_url text,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX billing_history_merchant_idx ON billing.billing_history (merchant_id, platform_id, created_at DESC)`);

    // ── seed: the reference tiers ──
    await q.query(`
      INSERT INTO billing.subscription_tiers (code, name, description, price_monthly_cents, price_annual_cents, currency, display_order)
      VALUES ('essential', 'Essential', 'For a first store: 200 products, 100 orders a month, 1 team member.', 4900, 49000, 'EUR', 1),
             ('professional', 'Professional', 'For growing stores: 500 products, 500 orders a month, 3 team members.', 9900, 99000, 'EUR', 2),
             ('business', 'Business', 'For established merchants: 2,000 products, 2,000 orders a month, 10 team members.', 19900, 199000, 'EUR', 3),
             ('enterprise', 'Enterprise', 'No limits, white label and priority support.', 39900, 399000, 'EUR', 4)`);
    // quantitative limits (null = unlimited) and binary features, rising by tier
    const limits: Array<[string, string, number | null]> = [];
    const quantitative: Record<string, Array<number | null>> = {
      max_products: [200, 500, 2000, null],
      max_orders_per_month: [100, 500, 2000, null],
      max_team_members: [1, 3, 10, null],
      max_storage_mb: [1024, 5120, 20480, null],
      ai_tokens_per_month: [100000, 500000, 2000000, null],
    };
    const tiers = ['essential', 'professional', 'business', 'enterprise'];
    for (const [code, values] of Object.entries(quantitative)) tiers.forEach((tier, i) => limits.push([tier, code, values[i]]));
    const binary: Record<string, string[]> = {
      essential: ['basic_support', 'basic_analytics'],
      professional: ['basic_support', 'basic_analytics', 'analytics_dashboard', 'priority_support'],
      business: ['basic_support', 'basic_analytics', 'analytics_dashboard', 'priority_support', 'api_access'],
      enterprise: ['basic_support', 'basic_analytics', 'analytics_dashboard', 'priority_support', 'api_access', 'white_label'],
    };
    for (const [tier, codes] of Object.entries(binary)) for (const code of codes) limits.push([tier, code, null]);
    for (const [tier, code, value] of limits) {
      await q.query(
        `INSERT INTO billing.tier_feature_limits (tier_id, feature_code, limit_value, enabled)
         SELECT id, $2, $3, true FROM billing.subscription_tiers WHERE code = $1`,
        [tier, code, value],
      );
    }
    // ── seed: add-ons ──
    await q.query(`
      INSERT INTO billing.add_on_products (code, name, category, price_cents, currency, billing_period, display_order)
      VALUES ('domain', 'Custom Domain', 'domain', 1500, 'EUR', 'ANNUAL', 1),
             ('ssl_premium', 'Premium SSL', 'ssl', 4900, 'EUR', 'ANNUAL', 2),
             ('email_5', '5 Email Addresses', 'email', 500, 'EUR', 'MONTHLY', 3),
             ('email_10', '10 Email Addresses', 'email', 900, 'EUR', 'MONTHLY', 4),
             ('email_25', '25 Email Addresses', 'email', 1900, 'EUR', 'MONTHLY', 5)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['billing_history', 'store_add_ons', 'add_on_products', 'feature_declarations', 'subscription_history', 'merchant_feature_overrides', 'merchant_subscriptions', 'tier_feature_limits']) {
      await q.query(`DROP TABLE billing.${table}`);
    }
    await q.query(`DELETE FROM billing.subscription_tiers WHERE code IN ('essential', 'professional', 'business', 'enterprise')`);
    await q.query(`ALTER TABLE billing.subscription_tiers DROP COLUMN stripe_price_monthly_id, DROP COLUMN stripe_price_annual_id`);
  }
}
