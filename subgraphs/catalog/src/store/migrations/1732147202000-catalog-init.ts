import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CatalogInit1732147202000 implements MigrationInterface {
  name = 'CatalogInit1732147202000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE SCHEMA IF NOT EXISTS catalog`);
    // merchant_id, store_id and platform_id are copied from tenancy at creation; no foreign key crosses schemas.
    await q.query(`
      CREATE TABLE catalog.products (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        merchant_id uuid NOT NULL,
        store_id uuid NOT NULL,
        platform_id uuid NOT NULL,
        sku text NOT NULL,
        name text NOT NULL,
        price_cents integer NOT NULL CONSTRAINT products_price_cents_check CHECK (price_cents >= 0),
        currency char(3) NOT NULL DEFAULT 'EUR' CONSTRAINT products_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
        is_active boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT products_store_sku_key UNIQUE (store_id, sku)
      )`);
    await q.query(`CREATE INDEX products_merchant_idx ON catalog.products (merchant_id, platform_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE catalog.products`);
  }
}
