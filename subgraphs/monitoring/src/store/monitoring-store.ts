import DataLoader from 'dataloader';
import { findByKeys } from '@tiergraph/runtime';
import type { DataSource } from 'typeorm';
import type { SnapshotValues } from '../capacity/figures';
import { CapacitySnapshotEntity } from './entities';

const COLUMNS = {
  totalStores: 'total_stores',
  activeStores: 'active_stores',
  trialStores: 'trial_stores',
  totalSubscriptions: 'total_subscriptions',
  activeSubscriptions: 'active_subscriptions',
  totalProducts: 'total_products',
  totalOrdersMonth: 'total_orders_month',
  totalTeamMembers: 'total_team_members',
  totalMediaFiles: 'total_media_files',
  storageUsedGb: 'storage_used_gb',
  dbSizeMb: 'db_size_mb',
  theoreticalProductsLimit: 'theoretical_products_limit',
  theoreticalOrdersLimit: 'theoretical_orders_limit',
  theoreticalTeamLimit: 'theoretical_team_limit',
  tierDistribution: 'tier_distribution',
} as const satisfies Record<keyof SnapshotValues, string>;

const FIELDS = Object.keys(COLUMNS) as Array<keyof SnapshotValues>;

/** A past day's snapshot from elsewhere (importCapacitySnapshots): its day and any figures (unset ones are 0, an empty tier list). */
export type HistoricalSnapshot = { snapshotDate: string } & Partial<SnapshotValues>;

/** Owns monitoring's SQL. Every read that a resolver can fan out over is a batched `= ANY(:ids)`. */
export class MonitoringStore {
  constructor(private readonly db: DataSource) {}

  /** Snapshots by id, in the order asked, null where unknown: one statement however many ids. */
  snapshotsByIds(ids: readonly string[]): Promise<(CapacitySnapshotEntity | null)[]> {
    return findByKeys(this.db, CapacitySnapshotEntity, 'id', ids);
  }

  snapshotOfDay(day: string): Promise<CapacitySnapshotEntity | null> {
    return this.db.getRepository(CapacitySnapshotEntity).findOneBy({ snapshotDate: day });
  }

  /** The snapshots of the days from `firstDay` to `lastDay` (inclusive), oldest first. */
  snapshotsBetween(firstDay: string, lastDay: string): Promise<CapacitySnapshotEntity[]> {
    return this.db
      .getRepository(CapacitySnapshotEntity)
      .createQueryBuilder('s')
      .where('s.snapshot_date BETWEEN :firstDay AND :lastDay', { firstDay, lastDay })
      .orderBy('s.snapshot_date', 'ASC')
      .getMany();
  }

  /** The database's size on disk in bytes (pg_database_size: every schema, not only monitoring's). */
  async databaseBytes(): Promise<number> {
    const [row]: Array<{ bytes: string }> = await this.db.query(`SELECT pg_database_size(current_database())::text AS bytes`);
    return Number(row.bytes);
  }

  /**
   * Inserts the snapshots whose day has none yet, in one statement; days that have one keep it (the unique day
   * constraint decides, so concurrent writers cannot make two). Answers how many were written.
   */
  async insertSnapshotsOnce(snapshots: ReadonlyArray<{ snapshotDate: string } & SnapshotValues>): Promise<number> {
    if (!snapshots.length) return 0;
    const rows = snapshots.map((s) => ({ snapshot_date: s.snapshotDate, ...Object.fromEntries(FIELDS.map((f) => [COLUMNS[f], s[f]])) }));
    const columns = ['snapshot_date', ...FIELDS.map((f) => COLUMNS[f])];
    const inserted: unknown[] = await this.db.query(
      `INSERT INTO monitoring.capacity_snapshots (${columns.join(', ')})
       SELECT ${columns.join(', ')} FROM jsonb_populate_recordset(NULL::monitoring.capacity_snapshots, $1::jsonb)
       ON CONFLICT ON CONSTRAINT capacity_snapshots_date_key DO NOTHING
       RETURNING id`,
      [JSON.stringify(rows)],
    );
    return inserted.length;
  }

  /** Snapshots of distinct given days (the service refuses repeats), unset figures 0; a day that has one keeps it. */
  async importSnapshots(snapshots: readonly HistoricalSnapshot[]): Promise<{ written: number; kept: number }> {
    const written = await this.insertSnapshotsOnce(snapshots.map((s) => ({ ...ZERO, ...s })));
    return { written, kept: snapshots.length - written };
  }

  /** The day's snapshot: inserted now, or the one another capture already wrote that day. */
  async captureOnce(day: string, values: SnapshotValues): Promise<{ snapshot: CapacitySnapshotEntity; created: boolean }> {
    const created = (await this.insertSnapshotsOnce([{ snapshotDate: day, ...values }])) === 1;
    const snapshot = await this.snapshotOfDay(day);
    if (!snapshot) throw new Error(`the snapshot of ${day} is neither inserted nor found`);
    return { snapshot, created };
  }

  /** Per-request batching: one statement per kind of read, however many entities a plan asks for. */
  createLoaders() {
    return {
      capacitySnapshot: new DataLoader((ids: readonly string[]) => this.snapshotsByIds(ids)),
    };
  }
}

export type MonitoringLoaders = ReturnType<MonitoringStore['createLoaders']>;

const ZERO: SnapshotValues = Object.fromEntries(FIELDS.map((f) => [f, f === 'tierDistribution' ? [] : 0])) as unknown as SnapshotValues;

