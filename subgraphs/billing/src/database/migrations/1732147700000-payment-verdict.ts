import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the newest applied invoice event said (paid or failed). A subscription event older than it is applied with
 * that verdict on top, as if the two had arrived in order: a late `customer.subscription.updated` cannot undo a
 * newer payment outcome, and a late invoice event cannot undo a newer subscription status.
 */
export class PaymentVerdict1732147700000 implements MigrationInterface {
  name = 'PaymentVerdict1732147700000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE billing.merchant_subscriptions ADD COLUMN payment_verdict text
         CONSTRAINT merchant_subscriptions_payment_verdict_check CHECK (payment_verdict IN ('PAID', 'FAILED'))`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE billing.merchant_subscriptions DROP COLUMN payment_verdict`);
  }
}
