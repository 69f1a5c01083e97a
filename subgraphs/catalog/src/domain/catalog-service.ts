import { canReadStore, ForbiddenError, isUuid, NotFoundError, type Caller } from '@tiergraph/runtime';
import type { CatalogLoaders } from '../store/catalog-store';
import type { ProductEntity } from '../store/entities';

/** Catalog's rules for one request: who may read which product. */
export class CatalogService {
  constructor(
    private readonly loaders: CatalogLoaders,
    private readonly caller: Caller,
  ) {}

  /** A product is visible to whoever may read its store; unknown (or non-uuid) ids are NOT_FOUND. */
  async product(id: string): Promise<ProductEntity> {
    const product = isUuid(id) ? await this.loaders.product.load(id) : null;
    if (!product) throw new NotFoundError('Product', id);
    if (!canReadStore(this.caller, { id: product.storeId, merchantId: product.merchantId })) {
      throw new ForbiddenError('this product belongs to another tenant');
    }
    return product;
  }

  // ───────────── federation references: the same rules as any read ─────────────

  referencedProduct(id: string): Promise<ProductEntity> {
    return this.product(id);
  }
}
