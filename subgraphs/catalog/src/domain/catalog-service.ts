import {
  assertCanReadMerchant,
  assertCanWriteStore,
  isUuid,
  NotFoundError,
  parseInput,
  rethrowUniqueViolation,
  storeConnection,
  readableStoreRow,
  referencedMerchantPlatform,
  verifiedStore,
  writableStore,
  type Caller,
  type Connection,
  type EntitlementSource,
  type FeatureUsage,
  type MerchantPlatform,
  type StoreDirectory,
  type StoreReference,
} from '@tiergraph/runtime';
import { limitForCreating } from '@tiergraph/plans';
import type { CatalogLoaders, CatalogStore } from '../store/catalog-store';
import type { ProductEntity } from '../store/entities';

import { MAX_PRODUCTS } from '../features';
import { createProductInput } from './validation';

const UNIQUE_FIELDS: Record<string, [string, string]> = {
  products_store_sku_key: ['sku', 'the store already has a product with this sku'],
};

/** A Store as the graph hands it to catalog: its key, plus tenancy's fields where a field @requires them. */
export type StoreRepresentation = StoreReference;

export type ProductConnectionResult = Connection<ProductEntity>;

export interface CatalogServiceDependencies {
  store: CatalogStore;
  loaders: CatalogLoaders;
  /** Which merchant and platform a store belongs to (tenancy). */
  stores: StoreDirectory;
  /** Effective limits (billing), cached and invalidated on change. */
  entitlements: EntitlementSource;
}

/** Catalog's rules for one request: who may read and change which products, and what a valid product is. */
export class CatalogService {
  constructor(
    private readonly deps: CatalogServiceDependencies,
    private readonly caller: Caller,
  ) {}

  // ───────────── reads ─────────────

  /** A product is visible to whoever may read its store; unknown (or non-uuid) ids are NOT_FOUND. Deleted ones still resolve. */
  async product(id: string): Promise<ProductEntity> {
    return readableStoreRow(this.caller, isUuid(id) ? await this.deps.loaders.product.load(id) : null, 'Product', id, 'product');
  }

  /** A store's products that are not deleted, a Relay page (first 1 to 100, after an earlier endCursor). */
  async productsOfStore(store: StoreRepresentation, args: { first?: number | null; after?: string | null }): Promise<ProductConnectionResult> {
    return storeConnection(this.caller, store, args, { page: this.deps.loaders.productPage, count: this.deps.loaders.productCountOfStore });
  }

  // ───────────── usage: catalog's part of billing's fan-out ─────────────

  /** max_products for a merchant on a platform: admins and services, the merchant itself and its store users. */
  async usageOfMerchant(key: MerchantPlatform): Promise<FeatureUsage[]> {
    assertCanReadMerchant(this.caller, key.merchantId);
    return [{ code: MAX_PRODUCTS, current: await this.deps.loaders.productCountOfMerchant.load(key) }];
  }

  /** The same, reached from a store: whoever may read the store (merchant-scoped, so the merchant's count). */
  async usageOfStore(store: StoreRepresentation): Promise<FeatureUsage[]> {
    const { merchantId, platformId } = await verifiedStore(this.caller, store, this.deps.stores);
    return [{ code: MAX_PRODUCTS, current: await this.deps.loaders.productCountOfMerchant.load({ merchantId, platformId }) }];
  }

  // ───────────── mutations ─────────────

  /**
   * Creates a product within the merchant's max_products: the limit comes from billing (fails closed when billing
   * cannot be asked), the count and the insert happen under a per-merchant lock in one transaction.
   */
  async createProduct(input: unknown): Promise<ProductEntity> {
    const values = parseInput(createProductInput, input);
    const store = await writableStore(this.caller, this.deps.stores, values.storeId, "change a store's catalog");
    const key = { merchantId: store.merchantId, platformId: store.platformId };
    const { limit } = await limitForCreating(this.deps.entitlements, MAX_PRODUCTS, key);
    try {
      return await this.deps.store.insertProductWithinLimit(limit, {
        ...key,
        storeId: store.id,
        sku: values.sku,
        name: values.name,
        priceCents: values.priceCents,
        currency: values.currency,
      });
    } catch (error) {
      return rethrowUniqueViolation(error, UNIQUE_FIELDS);
    }
  }

  /** Soft-deletes a product (frees its slot); NOT_FOUND when unknown or already deleted. */
  async deleteProduct(id: string): Promise<boolean> {
    const product = isUuid(id) ? await this.deps.loaders.product.load(id) : null;
    if (!product || product.deletedAt) throw new NotFoundError('Product', id);
    assertCanWriteStore(this.caller, { id: product.storeId, merchantId: product.merchantId }, "change a store's catalog");
    if (!(await this.deps.store.softDeleteProduct(id))) throw new NotFoundError('Product', id);
    return true;
  }

  // ───────────── federation references: the same rules as any read ─────────────

  referencedProduct(id: string): Promise<ProductEntity> {
    return this.product(id);
  }

  /** Only the key travels; the usage field checks who asks. */
  async referencedMerchantSubscription(key: MerchantPlatform): Promise<MerchantPlatform> {
    return referencedMerchantPlatform(this.caller, key);
  }
}
