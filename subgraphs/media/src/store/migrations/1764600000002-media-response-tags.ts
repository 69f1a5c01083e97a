import { MS_TAG_SQL, usageCounterTagsMigration, usageCounterTagsMigrationDown } from '@tiergraph/runtime';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { STORED_BYTES } from '../counters';

/**
 * The gateway's response cache (issue 12): every statement that changes media files NOTIFYs the response tags of the
 * rows it changed (`ms:<merchant>:<platform>`, `store:<store>`) from the counter's trigger, in the writing transaction, so
 * writes that do not pass the gateway (jobs, seeds, SQL) evict the cached answers they change on commit.
 */
export class MediaResponseTags1764600000002 implements MigrationInterface {
  name = 'MediaResponseTags1764600000002';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of usageCounterTagsMigration(STORED_BYTES, [MS_TAG_SQL, `'store:' || store_id`])) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const sql of usageCounterTagsMigrationDown(STORED_BYTES)) await q.query(sql);
  }
}
