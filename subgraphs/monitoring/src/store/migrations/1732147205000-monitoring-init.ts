import type { MigrationInterface, QueryRunner } from 'typeorm';

export class MonitoringInit1732147205000 implements MigrationInterface {
  name = 'MonitoringInit1732147205000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE SCHEMA IF NOT EXISTS monitoring`);
    await q.query(`
      CREATE TABLE monitoring.capacity_snapshots (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        snapshot_date date NOT NULL,
        total_stores integer NOT NULL DEFAULT 0 CONSTRAINT capacity_snapshots_total_stores_check CHECK (total_stores >= 0),
        active_stores integer NOT NULL DEFAULT 0 CONSTRAINT capacity_snapshots_active_stores_check CHECK (active_stores >= 0),
        total_products integer NOT NULL DEFAULT 0 CONSTRAINT capacity_snapshots_total_products_check CHECK (total_products >= 0),
        total_orders_month integer NOT NULL DEFAULT 0
          CONSTRAINT capacity_snapshots_total_orders_month_check CHECK (total_orders_month >= 0),
        total_team_members integer NOT NULL DEFAULT 0
          CONSTRAINT capacity_snapshots_total_team_members_check CHECK (total_team_members >= 0),
        storage_used_gb numeric(12,3) NOT NULL DEFAULT 0 CONSTRAINT capacity_snapshots_storage_used_gb_check CHECK (storage_used_gb >= 0),
        db_size_mb numeric(12,3) NOT NULL DEFAULT 0 CONSTRAINT capacity_snapshots_db_size_mb_check CHECK (db_size_mb >= 0),
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT capacity_snapshots_date_key UNIQUE (snapshot_date)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE monitoring.capacity_snapshots`);
  }
}
