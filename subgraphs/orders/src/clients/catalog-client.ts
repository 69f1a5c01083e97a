import { AppError, callSubgraph } from '@tiergraph/runtime';

/** Catalog could not be asked about the products: the order fails closed, nothing is written. */
export class CatalogUnavailableError extends AppError {
  constructor(reason: string) {
    super(`catalog cannot be reached to check the products (${reason}); nothing was ordered`, 'CATALOG_UNAVAILABLE');
  }
}

/** What orders needs to know of a product when it is ordered. */
export interface CatalogProduct {
  id: string;
  priceCents: number;
  currency: string;
  /** False when deactivated or deleted: it cannot be ordered. */
  isActive: boolean;
  storeId: string;
}

/** Every product found (by lower-case id), or the id catalog named as unknown (null when it named none). */
export type ProductLookup = { found: Map<string, CatalogProduct> } | { unknown: string | null };

const PRODUCTS = `query Products($r: [_Any!]!) {
  _entities(representations: $r) { ... on Product { id priceCents currency isActive store { id } } }
}`;

/** Asks catalog (the owner of products) with a service token: one call for all of an order's products. */
export class CatalogClient {
  constructor(
    private readonly catalogUrl: string,
    private readonly serviceToken: () => Promise<string>,
    private readonly timeoutMs = 3000,
  ) {}

  /** Fails closed: CatalogUnavailableError when catalog cannot answer. */
  async products(ids: readonly string[]): Promise<ProductLookup> {
    type Answer = { _entities: Array<{ id: string; priceCents: number; currency: string; isActive: boolean; store: { id: string } } | null> };
    let answer: Answer;
    try {
      answer = await callSubgraph<Answer>(
        this.catalogUrl,
        PRODUCTS,
        { r: ids.map((id) => ({ __typename: 'Product', id })) },
        this.serviceToken,
        this.timeoutMs,
      );
    } catch (error) {
      if (error instanceof AppError && error.extensions.code === 'NOT_FOUND') {
        // callSubgraph keeps only the first error's message ("Product <id> not found"), not its path
        return { unknown: ids.find((id) => error.message.includes(id)) ?? null };
      }
      throw new CatalogUnavailableError((error as Error).message);
    }
    const found = new Map<string, CatalogProduct>();
    for (const product of answer._entities) {
      if (!product) continue;
      found.set(product.id.toLowerCase(), {
        id: product.id,
        priceCents: product.priceCents,
        currency: product.currency,
        isActive: product.isActive,
        storeId: product.store.id,
      });
    }
    const missing = ids.find((id) => !found.has(id.toLowerCase()));
    return missing === undefined ? { found } : { unknown: missing };
  }
}
