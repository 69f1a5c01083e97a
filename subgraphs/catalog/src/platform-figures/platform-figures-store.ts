import type { DataSource } from 'typeorm';

/** Catalog's platform-wide counts. */
export interface CatalogPlatformFigures {
  /** Products that are not deleted: what max_products counts. */
  productCount: number;
}

export class CatalogPlatformFiguresStore {
  constructor(private readonly db: DataSource) {}

  async figures(): Promise<CatalogPlatformFigures> {
    const [row]: Array<CatalogPlatformFigures> = await this.db.query(
      `SELECT count(*)::int AS "productCount" FROM catalog.products WHERE deleted_at IS NULL`,
    );
    return row;
  }
}
