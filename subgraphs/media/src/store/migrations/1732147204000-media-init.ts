import type { MigrationInterface, QueryRunner } from 'typeorm';

export class MediaInit1732147204000 implements MigrationInterface {
  name = 'MediaInit1732147204000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE SCHEMA IF NOT EXISTS media`);
    // merchant_id, store_id and platform_id are copied from tenancy at creation; no foreign key crosses schemas.
    await q.query(`
      CREATE TABLE media.media_files (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        merchant_id uuid NOT NULL,
        store_id uuid NOT NULL,
        platform_id uuid NOT NULL,
        filename text NOT NULL,
        mime_type text NOT NULL,
        size_bytes bigint NOT NULL CONSTRAINT media_files_size_bytes_check CHECK (size_bytes >= 0),
        width integer,
        height integer,
        storage_key text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX media_files_merchant_idx ON media.media_files (merchant_id, platform_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE media.media_files`);
  }
}
