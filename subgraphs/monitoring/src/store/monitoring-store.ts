import DataLoader from 'dataloader';
import { findByKeys } from '@tiergraph/runtime';
import type { DataSource } from 'typeorm';
import { CapacitySnapshotEntity } from './entities';

/** Owns monitoring's SQL. Every read that a resolver can fan out over is a batched `= ANY(:ids)`. */
export class MonitoringStore {
  constructor(private readonly db: DataSource) {}

  /** Snapshots by id, in the order asked, null where unknown: one statement however many ids. */
  snapshotsByIds(ids: readonly string[]): Promise<(CapacitySnapshotEntity | null)[]> {
    return findByKeys(this.db, CapacitySnapshotEntity, 'id', ids);
  }

  /** Per-request batching: one statement per kind of read, however many entities a plan asks for. */
  createLoaders() {
    return {
      capacitySnapshot: new DataLoader((ids: readonly string[]) => this.snapshotsByIds(ids)),
    };
  }
}

export type MonitoringLoaders = ReturnType<MonitoringStore['createLoaders']>;
