import { MS_TAG_SQL, usageCounterTagsMigration, usageCounterTagsMigrationDown } from '@tiergraph/runtime';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { TEAM_MEMBER_COUNTS } from '../counters';

/**
 * The gateway's response cache (issue 12): every statement that changes store users NOTIFYs the response tags of the
 * rows it changed (`ms:<merchant>:<platform>`) from the counter's trigger, in the writing transaction, so
 * writes that do not pass the gateway (jobs, seeds, SQL) evict the cached answers they change on commit.
 */
export class TenancyResponseTags1764600000001 implements MigrationInterface {
  name = 'TenancyResponseTags1764600000001';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of usageCounterTagsMigration(TEAM_MEMBER_COUNTS, [MS_TAG_SQL])) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const sql of usageCounterTagsMigrationDown(TEAM_MEMBER_COUNTS)) await q.query(sql);
  }
}
