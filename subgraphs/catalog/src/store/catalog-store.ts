import DataLoader from 'dataloader';
import { findByKeys } from '@tiergraph/runtime';
import type { DataSource } from 'typeorm';
import { ProductEntity } from './entities';

/** Owns catalog's SQL. Every read that a resolver can fan out over is a batched `= ANY(:ids)`. */
export class CatalogStore {
  constructor(private readonly db: DataSource) {}

  /** Products by id, in the order asked, null where unknown: one statement however many ids. */
  productsByIds(ids: readonly string[]): Promise<(ProductEntity | null)[]> {
    return findByKeys(this.db, ProductEntity, 'id', ids);
  }

  /** Per-request batching: one statement per kind of read, however many entities a plan asks for. */
  createLoaders() {
    return {
      product: new DataLoader((ids: readonly string[]) => this.productsByIds(ids)),
    };
  }
}

export type CatalogLoaders = ReturnType<CatalogStore['createLoaders']>;
