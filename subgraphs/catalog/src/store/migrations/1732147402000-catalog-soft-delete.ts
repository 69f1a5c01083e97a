import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Soft delete for products: a deleted product keeps resolving by reference (old orders point at it) but no longer
 * counts against max_products, is not listed and cannot be ordered. Its sku becomes free again in its store, so
 * the sku is unique among the products that are not deleted only (the index keeps the constraint's name).
 */
export class CatalogSoftDelete1732147402000 implements MigrationInterface {
  name = 'CatalogSoftDelete1732147402000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE catalog.products ADD COLUMN deleted_at timestamptz`);
    await q.query(`ALTER TABLE catalog.products DROP CONSTRAINT products_store_sku_key`);
    await q.query(`CREATE UNIQUE INDEX products_store_sku_key ON catalog.products (store_id, sku) WHERE deleted_at IS NULL`);
    // max_products counts per (merchant, platform); listing pages per store by (created_at, id)
    await q.query(`DROP INDEX catalog.products_merchant_idx`);
    await q.query(`CREATE INDEX products_merchant_idx ON catalog.products (merchant_id, platform_id) WHERE deleted_at IS NULL`);
    await q.query(`CREATE INDEX products_store_page_idx ON catalog.products (store_id, created_at, id) WHERE deleted_at IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX catalog.products_store_page_idx`);
    await q.query(`DROP INDEX catalog.products_merchant_idx`);
    await q.query(`CREATE INDEX products_merchant_idx ON catalog.products (merchant_id, platform_id)`);
    await q.query(`DROP INDEX catalog.products_store_sku_key`);
    // lossy: the full unique constraint cannot hold while deleted products share a sku with live ones
    await q.query(`DELETE FROM catalog.products WHERE deleted_at IS NOT NULL`);
    await q.query(`ALTER TABLE catalog.products ADD CONSTRAINT products_store_sku_key UNIQUE (store_id, sku)`);
    await q.query(`ALTER TABLE catalog.products DROP COLUMN deleted_at`);
  }
}
