import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The Stripe webhook sidecar: one row per processed event (idempotency on `event.id`, written in the transaction
 * of the event's effect), and on each subscription the time of the newest Stripe event applied to it (an older
 * event changes nothing) and the payment attempts of its open invoice.
 */
export class StripeWebhooks1732147500000 implements MigrationInterface {
  name = 'StripeWebhooks1732147500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE billing.stripe_webhook_events (
        event_id text PRIMARY KEY,
        type text NOT NULL,
        created_at timestamptz NOT NULL,
        processed_at timestamptz NOT NULL DEFAULT now(),
        outcome text
      )`);
    await q.query(`
      ALTER TABLE billing.merchant_subscriptions
        ADD COLUMN stripe_state_at timestamptz,
        ADD COLUMN payment_attempts integer NOT NULL DEFAULT 0
          CONSTRAINT merchant_subscriptions_payment_attempts_check CHECK (payment_attempts >= 0)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE billing.merchant_subscriptions DROP COLUMN stripe_state_at, DROP COLUMN payment_attempts`);
    await q.query(`DROP TABLE billing.stripe_webhook_events`);
  }
}
