import { usageCounterMigration, usageCounterMigrationDown } from '@tiergraph/runtime';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { TEAM_MEMBER_COUNTS } from '../counters';

/**
 * Usage counts without scanning (issue 12): tenancy.team_member_counts per (merchant, platform), kept by
 * statement-level triggers on tenancy.store_users and backfilled here from the existing rows.
 */
export class TenancyTeamMemberCounts1764590000001 implements MigrationInterface {
  name = 'TenancyTeamMemberCounts1764590000001';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of usageCounterMigration(TEAM_MEMBER_COUNTS)) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const sql of usageCounterMigrationDown(TEAM_MEMBER_COUNTS)) await q.query(sql);
  }
}
