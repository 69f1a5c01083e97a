import { usageCounterMigration, usageCounterMigrationDown } from '@tiergraph/runtime';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { STORED_BYTES } from '../counters';

/**
 * Usage counts without scanning (issue 12): media.stored_bytes_counts per (merchant, platform), kept by
 * statement-level triggers on media.media_files and backfilled here from the existing rows.
 */
export class MediaStoredBytesCounts1764590000002 implements MigrationInterface {
  name = 'MediaStoredBytesCounts1764590000002';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of usageCounterMigration(STORED_BYTES)) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const sql of usageCounterMigrationDown(STORED_BYTES)) await q.query(sql);
  }
}
