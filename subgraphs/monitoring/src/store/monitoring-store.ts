import DataLoader from 'dataloader';
import type { DataSource } from 'typeorm';
import { CapacitySnapshotEntity } from './entities';

/** Owns monitoring's SQL. Every read that a resolver can fan out over is a batched `= ANY(:ids)`. */
export class MonitoringStore {
  constructor(private readonly db: DataSource) {}

  /** Snapshots by id, in the order asked, null where unknown: one statement however many ids. */
  async snapshotsByIds(ids: readonly string[]): Promise<(CapacitySnapshotEntity | null)[]> {
    const rows = await this.db
      .getRepository(CapacitySnapshotEntity)
      .createQueryBuilder('s')
      .where('s.id = ANY(:ids)', { ids: [...ids] })
      .getMany();
    const byId = new Map(rows.map((r) => [r.id, r]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  /** Per-request batching: one statement per kind of read, however many entities a plan asks for. */
  createLoaders() {
    return {
      capacitySnapshot: new DataLoader((ids: readonly string[]) => this.snapshotsByIds(ids)),
    };
  }
}

export type MonitoringLoaders = ReturnType<MonitoringStore['createLoaders']>;
