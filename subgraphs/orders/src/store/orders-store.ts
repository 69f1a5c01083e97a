import DataLoader from 'dataloader';
import type { DataSource } from 'typeorm';
import { OrderEntity } from './entities';

/** Owns orders' SQL. Every read that a resolver can fan out over is a batched `= ANY(:ids)`. */
export class OrdersStore {
  constructor(private readonly db: DataSource) {}

  /** Orders by id, in the order asked, null where unknown: one statement however many ids. */
  async ordersByIds(ids: readonly string[]): Promise<(OrderEntity | null)[]> {
    const rows = await this.db
      .getRepository(OrderEntity)
      .createQueryBuilder('o')
      .where('o.id = ANY(:ids)', { ids: [...ids] })
      .getMany();
    const byId = new Map(rows.map((r) => [r.id, r]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  /** Per-request batching: one statement per kind of read, however many entities a plan asks for. */
  createLoaders() {
    return {
      order: new DataLoader((ids: readonly string[]) => this.ordersByIds(ids)),
    };
  }
}

export type OrdersLoaders = ReturnType<OrdersStore['createLoaders']>;
