import { usageCounterMigration, usageCounterMigrationDown } from '@tiergraph/runtime';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { PRODUCT_COUNTS } from '../counters';

/**
 * Usage counts without scanning (issue 12): catalog.product_counts per (merchant, platform, store), kept by
 * statement-level triggers on catalog.products and backfilled here from the existing rows. Reads of max_products
 * (usage, the limit check under the advisory lock) become key look-ups; a store's count reads its one row.
 */
export class CatalogProductCounts1764590000000 implements MigrationInterface {
  name = 'CatalogProductCounts1764590000000';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of usageCounterMigration(PRODUCT_COUNTS)) await q.query(sql);
    // a store's count (store_id, merchant_id) is not a prefix of the primary key
    await q.query(`CREATE INDEX product_counts_store_idx ON catalog.product_counts (store_id, merchant_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const sql of usageCounterMigrationDown(PRODUCT_COUNTS)) await q.query(sql);
  }
}
