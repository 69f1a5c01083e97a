import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Two marks instead of one: subscription events (tier, status, period) and invoice events (payment status) are
 * ordered each against their own kind, so a paid invoice does not make a slightly older subscription update stale.
 */
export class PaymentState1732147600000 implements MigrationInterface {
  name = 'PaymentState1732147600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE billing.merchant_subscriptions ADD COLUMN payment_state_at timestamptz`);
    await q.query(`ALTER TABLE billing.store_add_ons ADD COLUMN stripe_subscription_id text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE billing.store_add_ons DROP COLUMN stripe_subscription_id`);
    await q.query(`ALTER TABLE billing.merchant_subscriptions DROP COLUMN payment_state_at`);
  }
}
