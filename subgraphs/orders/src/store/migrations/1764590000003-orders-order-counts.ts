import { usageCounterMigration, usageCounterMigrationDown } from '@tiergraph/runtime';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { ORDER_COUNTS } from '../counters';

/**
 * Usage counts without scanning (issue 12): orders.order_counts per (merchant, platform, UTC day), kept by
 * statement-level triggers on orders.orders and backfilled here from the existing rows.
 */
export class OrdersOrderCounts1764590000003 implements MigrationInterface {
  name = 'OrdersOrderCounts1764590000003';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of usageCounterMigration(ORDER_COUNTS)) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const sql of usageCounterMigrationDown(ORDER_COUNTS)) await q.query(sql);
  }
}
