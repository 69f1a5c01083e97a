import { MS_TAG_SQL, usageCounterTagsMigration, usageCounterTagsMigrationDown } from '@tiergraph/runtime';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { PRODUCT_COUNTS } from '../counters';

/**
 * The gateway's response cache (issue 12): every statement that changes products NOTIFYs the response tags of the
 * rows it changed (`ms:<merchant>:<platform>`, `store:<store>`) from the counter's trigger, in the writing transaction, so
 * writes that do not pass the gateway (jobs, seeds, SQL) evict the cached answers they change on commit.
 */
export class CatalogResponseTags1764600000000 implements MigrationInterface {
  name = 'CatalogResponseTags1764600000000';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of usageCounterTagsMigration(PRODUCT_COUNTS, [MS_TAG_SQL, `'store:' || store_id`])) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const sql of usageCounterTagsMigrationDown(PRODUCT_COUNTS)) await q.query(sql);
  }
}
