import DataLoader from 'dataloader';
import { insertWithinLimit } from '@tiergraph/plans';
import {
  aggregatePerPair,
  findByKeys,
  changedTags,
  tag,
  merchantPlatformKey,
  storeOfMerchantKey,
  storeKeysetPages,
  storePageKey,
  type KeysetPage,
  type MerchantPlatform,
  type StoreOfMerchant,
  type StorePageRequest,
} from '@tiergraph/runtime';
import type { DataSource, EntityManager } from 'typeorm';
import { MAX_PRODUCTS } from '../features';

import { PRODUCT_COUNTS } from './counters';
import { ProductEntity } from './entities';

/** What max_products and a store's product count count (the products not deleted), read from their counter rows. */
const PRODUCT_COUNTERS = { from: PRODUCT_COUNTS.counter, aggregate: 'sum(n)' };

/** One page of one store's products (only those of the representation's merchant): `first` after `after`. */
export type PageRequest = StorePageRequest;
export type ProductPage = KeysetPage<ProductEntity>;

export interface NewProduct {
  merchantId: string;
  storeId: string;
  platformId: string;
  sku: string;
  name: string;
  priceCents: number;
  currency: string;
}

type ProductRow = {
  id: string;
  merchant_id: string;
  store_id: string;
  platform_id: string;
  sku: string;
  name: string;
  price_cents: number;
  currency: string;
  is_active: boolean;
  created_at: Date;
  deleted_at: Date | null;
};

function productOf(row: ProductRow): ProductEntity {
  return Object.assign(new ProductEntity(), {
    id: row.id,
    merchantId: row.merchant_id,
    storeId: row.store_id,
    platformId: row.platform_id,
    sku: row.sku,
    name: row.name,
    priceCents: row.price_cents,
    currency: row.currency,
    isActive: row.is_active,
    createdAt: row.created_at,
    deletedAt: row.deleted_at,
  });
}

/**
 * Owns catalog's SQL. Every read that a resolver can fan out over is one statement per batch: products by id,
 * product counts per merchant (usage) and per store, and the pages of many stores at once.
 */
export class CatalogStore {
  constructor(private readonly db: DataSource) {}

  /** Products by id, in the order asked, null where unknown: one statement however many ids. */
  productsByIds(ids: readonly string[]): Promise<(ProductEntity | null)[]> {
    return findByKeys(this.db, ProductEntity, 'id', ids);
  }

  /**
   * max_products usage: the products that are not deleted per (merchant, platform), one statement per batch: the
   * sum of the merchant's per-store counter rows (a primary-key prefix), not a scan of the products.
   */
  productCountsOfMerchants(keys: readonly MerchantPlatform[], db: DataSource | EntityManager = this.db): Promise<number[]> {
    return aggregatePerPair(db, { ...PRODUCT_COUNTERS, columns: ['merchant_id', 'platform_id'] }, keys.map((k) => [k.merchantId, k.platformId]));
  }


  /** The products that are not deleted per store (of the given merchant), one statement per batch: its counter row. */
  productCountsOfStores(keys: readonly StoreOfMerchant[]): Promise<number[]> {
    return aggregatePerPair(this.db, { ...PRODUCT_COUNTERS, columns: ['store_id', 'merchant_id'] }, keys.map((k) => [k.storeId, k.merchantId]));
  }


  /** Pages of many stores in one statement, oldest first, not deleted (see storeKeysetPages). */
  productPages(requests: readonly PageRequest[]): Promise<ProductPage[]> {
    return storeKeysetPages(this.db, { from: 'catalog.products', direction: 'ASC', where: 'q.deleted_at IS NULL' }, requests, productOf);
  }


  /** Per-request batching: one statement per kind of read, however many entities a plan asks for. */
  createLoaders() {
    return {
      product: new DataLoader((ids: readonly string[]) => this.productsByIds(ids)),
      productCountOfMerchant: new DataLoader((keys: readonly MerchantPlatform[]) => this.productCountsOfMerchants(keys), {
        cacheKeyFn: merchantPlatformKey,
      }),
      productCountOfStore: new DataLoader((keys: readonly StoreOfMerchant[]) => this.productCountsOfStores(keys), {
        cacheKeyFn: storeOfMerchantKey,
      }),
      productPage: new DataLoader((requests: readonly PageRequest[]) => this.productPages(requests), {
        cacheKeyFn: storePageKey,
      }),
    };
  }

  // ───────────── writes ─────────────

  /**
   * Inserts a product within max_products (`limit`, null: unlimited) in one transaction: the merchant's lock on the
   * feature, the count under it, the insert. 50 racing creates with k slots left make exactly k products.
   */
  insertProductWithinLimit(limit: number | null, values: NewProduct): Promise<ProductEntity> {
    return insertWithinLimit(this.db, {
      featureCode: MAX_PRODUCTS,
      pair: values,
      limit,
      measure: async (manager) => ({ used: await this.countProducts(manager, values) }),
      insert: (manager) => this.insertProduct(manager, values),
    });
  }

  /**
   * What max_products counts, inside the caller's transaction: the usage read of productCountsOfMerchants (the
   * counter rows, kept by catalog.products' triggers in the writing transaction; under the feature's advisory lock
   * no other create of this merchant can change them between this read and the insert).
   */
  async countProducts(manager: EntityManager, key: MerchantPlatform): Promise<number> {
    const [n] = await this.productCountsOfMerchants([key], manager);
    return n;
  }

  insertProduct(manager: EntityManager, values: NewProduct): Promise<ProductEntity> {
    const repo = manager.getRepository(ProductEntity);
    return repo.save(repo.create({ ...values, isActive: true, deletedAt: null }));
  }

  /** Soft-deletes once: whether this call deleted the product (false when unknown or already deleted). */
  async softDeleteProduct(id: string): Promise<boolean> {
    // a CTE, so the driver answers rows (a bare UPDATE answers [rows, count])
    const rows: Array<{ id: string; merchant_id: string; platform_id: string; store_id: string }> = await this.db.query(
      `WITH deleted AS (
         UPDATE catalog.products SET deleted_at = now(), is_active = false WHERE id = $1 AND deleted_at IS NULL
         RETURNING id, merchant_id, platform_id, store_id
       )
       SELECT id, merchant_id, platform_id, store_id FROM deleted`,
      [id],
    );
    for (const r of rows) changedTags(tag.merchantPlatform({ merchantId: r.merchant_id, platformId: r.platform_id }), tag.store(r.store_id));
    return rows.length === 1;
  }
}

export type CatalogLoaders = ReturnType<CatalogStore['createLoaders']>;
