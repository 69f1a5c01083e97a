import type { MigrationInterface, QueryRunner } from 'typeorm';

const TABLES = ['subscription_tiers', 'tier_feature_limits'];

/**
 * Every statement that writes tiers or their limits NOTIFYs a change of everything on the entitlements channel, in its
 * transaction (delivered on commit): billing's processes keep the tiers and their limits in memory (tier-catalog.ts),
 * so a change made by another process, a job or plain SQL must reach them too, not only the writes of TierStore.
 * PostgreSQL folds it with TierStore's own notification of the same payload.
 *
 * The channel is written out (runtime's ENTITLEMENTS_CHANNEL as it was when this ran): a migration stays as it ran.
 */
export class TierChangeNotify1732147900000 implements MigrationInterface {
  name = 'TierChangeNotify1732147900000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE FUNCTION billing.notify_tiers_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
         BEGIN
           PERFORM pg_notify('tiergraph_entitlements', '{"all":true}');
           RETURN NULL;
         END
       $fn$`,
    );
    for (const table of TABLES) {
      await q.query(
        `CREATE TRIGGER ${table}_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON billing.${table}
           FOR EACH STATEMENT EXECUTE FUNCTION billing.notify_tiers_changed()`,
      );
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of TABLES) await q.query(`DROP TRIGGER ${table}_notify ON billing.${table}`);
    await q.query(`DROP FUNCTION billing.notify_tiers_changed()`);
  }
}
