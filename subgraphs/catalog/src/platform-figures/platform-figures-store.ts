import type { DataSource } from 'typeorm';
import { PRODUCT_COUNTS } from '../store/counters';

/** Catalog's platform-wide counts. */
export interface CatalogPlatformFigures {
  /** Products that are not deleted: what max_products counts. */
  productCount: number;
}

export class CatalogPlatformFiguresStore {
  constructor(private readonly db: DataSource) {}

  async figures(): Promise<CatalogPlatformFigures> {
    const [row]: Array<CatalogPlatformFigures> = await this.db.query(
      // the sum of the counter rows the products' triggers keep (store/counters.ts), not a scan of every product
      `SELECT coalesce(sum(n), 0)::int AS "productCount" FROM ${PRODUCT_COUNTS.counter}`,
    );
    return row;
  }
}
