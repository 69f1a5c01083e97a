import type { MigrationInterface, QueryRunner } from 'typeorm';

export class OrdersInit1732147203000 implements MigrationInterface {
  name = 'OrdersInit1732147203000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE SCHEMA IF NOT EXISTS orders`);
    // merchant_id, store_id and platform_id are copied from tenancy at creation; no foreign key crosses schemas.
    await q.query(`
      CREATE TABLE orders.orders (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        merchant_id uuid NOT NULL,
        store_id uuid NOT NULL,
        platform_id uuid NOT NULL,
        status text NOT NULL DEFAULT 'PENDING'
          CONSTRAINT orders_status_check CHECK (status IN ('PENDING', 'PAID', 'FULFILLED', 'CANCELLED')),
        total_cents integer NOT NULL CONSTRAINT orders_total_cents_check CHECK (total_cents >= 0),
        currency char(3) NOT NULL DEFAULT 'EUR' CONSTRAINT orders_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
        customer_email text,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX orders_merchant_created_idx ON orders.orders (merchant_id, platform_id, created_at)`);
    await q.query(`
      CREATE TABLE orders.order_items (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        order_id uuid NOT NULL REFERENCES orders.orders (id) ON DELETE CASCADE,
        product_id uuid NOT NULL,
        quantity integer NOT NULL CONSTRAINT order_items_quantity_check CHECK (quantity > 0),
        unit_price_cents integer NOT NULL CONSTRAINT order_items_unit_price_cents_check CHECK (unit_price_cents >= 0)
      )`);
    await q.query(`CREATE INDEX order_items_order_idx ON orders.order_items (order_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE orders.order_items`);
    await q.query(`DROP TABLE orders.orders`);
  }
}
