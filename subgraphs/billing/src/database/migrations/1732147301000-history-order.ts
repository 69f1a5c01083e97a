import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Entries written by one change share their time; a sequence keeps them in the order they were recorded. */
export class HistoryOrder1732147301000 implements MigrationInterface {
  name = 'HistoryOrder1732147301000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE billing.subscription_history ADD COLUMN seq bigserial`);
    await q.query(`DROP INDEX billing.subscription_history_subscription_idx`);
    await q.query(`CREATE INDEX subscription_history_subscription_idx ON billing.subscription_history (subscription_id, changed_at DESC, seq DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX billing.subscription_history_subscription_idx`);
    await q.query(`ALTER TABLE billing.subscription_history DROP COLUMN seq`);
    await q.query(`CREATE INDEX subscription_history_subscription_idx ON billing.subscription_history (subscription_id, changed_at DESC)`);
  }
}
