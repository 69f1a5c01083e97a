import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Uploads: each media file's stored variants (original, medium, thumb) with their sizes, the bytes the file takes
 * on disk in all (what max_storage_mb and the stats count, so nothing walks the disk), and the intents that let a
 * sweeper remove what a crash left on disk without a row.
 */
export class MediaVariants1732147405000 implements MigrationInterface {
  name = 'MediaVariants1732147405000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE media.media_files ADD COLUMN stored_bytes bigint`);
    await q.query(`UPDATE media.media_files SET stored_bytes = size_bytes`);
    await q.query(`ALTER TABLE media.media_files ALTER COLUMN stored_bytes SET NOT NULL`);
    await q.query(`ALTER TABLE media.media_files ADD CONSTRAINT media_files_stored_bytes_check CHECK (stored_bytes >= 0)`);
    await q.query(`ALTER TABLE media.media_files ADD CONSTRAINT media_files_storage_key_key UNIQUE (storage_key)`);
    // Store.media: a store's files newest first
    await q.query(`CREATE INDEX media_files_store_created_idx ON media.media_files (store_id, created_at DESC, id DESC)`);
    await q.query(`
      CREATE TABLE media.media_variants (
        media_file_id uuid NOT NULL REFERENCES media.media_files (id) ON DELETE CASCADE,
        name text NOT NULL CONSTRAINT media_variants_name_check CHECK (name IN ('original', 'medium', 'thumb')),
        mime_type text NOT NULL,
        width integer NOT NULL,
        height integer NOT NULL,
        size_bytes bigint NOT NULL CONSTRAINT media_variants_size_bytes_check CHECK (size_bytes >= 0),
        path text NOT NULL CONSTRAINT media_variants_path_key UNIQUE,
        PRIMARY KEY (media_file_id, name)
      )`);
    // A storage key whose files may be on disk without a committed row: written before an upload writes files
    // (removed in the transaction that inserts the row) and by a delete (removed once the files are gone).
    await q.query(`
      CREATE TABLE media.file_intents (
        storage_key text PRIMARY KEY,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE media.file_intents`);
    await q.query(`DROP TABLE media.media_variants`);
    await q.query(`DROP INDEX media.media_files_store_created_idx`);
    await q.query(`ALTER TABLE media.media_files DROP CONSTRAINT media_files_storage_key_key`);
    await q.query(`ALTER TABLE media.media_files DROP COLUMN stored_bytes`);
  }
}
