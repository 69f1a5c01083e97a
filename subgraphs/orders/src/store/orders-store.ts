import DataLoader from 'dataloader';
import { findByKeys } from '@tiergraph/runtime';
import type { DataSource } from 'typeorm';
import { OrderEntity } from './entities';

/** Owns orders' SQL. Every read that a resolver can fan out over is a batched `= ANY(:ids)`. */
export class OrdersStore {
  constructor(private readonly db: DataSource) {}

  /** Orders by id, in the order asked, null where unknown: one statement however many ids. */
  ordersByIds(ids: readonly string[]): Promise<(OrderEntity | null)[]> {
    return findByKeys(this.db, OrderEntity, 'id', ids);
  }

  /** Per-request batching: one statement per kind of read, however many entities a plan asks for. */
  createLoaders() {
    return {
      order: new DataLoader((ids: readonly string[]) => this.ordersByIds(ids)),
    };
  }
}

export type OrdersLoaders = ReturnType<OrdersStore['createLoaders']>;
