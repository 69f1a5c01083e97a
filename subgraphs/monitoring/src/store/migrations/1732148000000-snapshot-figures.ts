import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The contract's CapacitySnapshot fields the first table did not have: subscriptions, theoretical limits, tiers, files. */
export class SnapshotFigures1732148000000 implements MigrationInterface {
  name = 'SnapshotFigures1732148000000';

  async up(q: QueryRunner): Promise<void> {
    const counts = ['trial_stores', 'total_subscriptions', 'active_subscriptions', 'total_media_files', 'theoretical_products_limit', 'theoretical_orders_limit', 'theoretical_team_limit'];
    await q.query(`
      ALTER TABLE monitoring.capacity_snapshots
        ${counts.map((c) => `ADD COLUMN ${c} integer NOT NULL DEFAULT 0 CONSTRAINT capacity_snapshots_${c}_check CHECK (${c} >= 0)`).join(',\n        ')},
        ADD COLUMN tier_distribution jsonb NOT NULL DEFAULT '[]'::jsonb
          CONSTRAINT capacity_snapshots_tier_distribution_check CHECK (jsonb_typeof(tier_distribution) = 'array')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE monitoring.capacity_snapshots
        DROP COLUMN trial_stores, DROP COLUMN total_subscriptions, DROP COLUMN active_subscriptions, DROP COLUMN total_media_files,
        DROP COLUMN theoretical_products_limit, DROP COLUMN theoretical_orders_limit, DROP COLUMN theoretical_team_limit,
        DROP COLUMN tier_distribution`);
  }
}
