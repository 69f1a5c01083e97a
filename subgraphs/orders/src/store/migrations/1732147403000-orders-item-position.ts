import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Items keep the order in which they were placed; max_orders_per_month counts per (merchant, platform, period). */
export class OrdersItemPosition1732147403000 implements MigrationInterface {
  name = 'OrdersItemPosition1732147403000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE orders.order_items ADD COLUMN position integer NOT NULL DEFAULT 0 CONSTRAINT order_items_position_check CHECK (position >= 0)`);
    await q.query(`DROP INDEX orders.order_items_order_idx`);
    await q.query(`CREATE INDEX order_items_order_idx ON orders.order_items (order_id, position)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX orders.order_items_order_idx`);
    await q.query(`CREATE INDEX order_items_order_idx ON orders.order_items (order_id)`);
    await q.query(`ALTER TABLE orders.order_items DROP COLUMN position`);
  }
}
