import DataLoader from 'dataloader';
import { insertWithinLimit } from '@tiergraph/plans';
import {
  aggregateBigIntPerPair,
  aggregatePerPair,
  findByKeys,
  groupUnder,
  isUuid,
  changedTags,
  tag,
  merchantPlatformKey,
  storeOfMerchantKey,
  storeKeysetPages,
  storePageKey,
  type KeysetPage,
  type MerchantPlatform,
  type StoreOfMerchant,
  type PairAggregate,
  type StorePageRequest,
} from '@tiergraph/runtime';
import type { DataSource, EntityManager } from 'typeorm';
import { MAX_STORAGE_MB } from '../features';

import { STORED_BYTES } from './counters';
import { MediaFileEntity, MediaVariantEntity, type VariantName } from './entities';

/** 1 MiB: max_storage_mb counts in these, rounded up. */
export const BYTES_PER_MB = 1024 * 1024;

/** What max_storage_mb counts: the merchant's stored bytes on the platform, from its counter row (in MiB, rounded up). */
const STORED_BYTES_OF_MERCHANT: PairAggregate = {
  from: STORED_BYTES.counter,
  columns: ['merchant_id', 'platform_id'],
  aggregate: 'sum(n)',
};

/** Bytes in MiB, rounded up: how max_storage_mb reports usage. */
const toMbRoundedUp = (bytes: bigint): number => Number((bytes + BigInt(BYTES_PER_MB) - 1n) / BigInt(BYTES_PER_MB));

export interface NewVariant {
  name: VariantName;
  mimeType: string;
  width: number;
  height: number;
  sizeBytes: number;
  path: string;
}

export interface NewMediaFile {
  merchantId: string;
  storeId: string;
  platformId: string;
  filename: string;
  mimeType: string;
  width: number;
  height: number;
  storageKey: string;
  variants: NewVariant[];
}

/** One page of one store's files (only those of the representation's merchant), newest first: `first` after `after`. */
export type MediaPageRequest = StorePageRequest;
export type MediaPage = KeysetPage<MediaFileEntity>;

export interface StorageTotals {
  totalFiles: number;
  totalVariants: number;
  /** bigint as a string: exact beyond 2^53. */
  totalBytes: string;
}

type MediaFileRow = {
  id: string;
  merchant_id: string;
  store_id: string;
  platform_id: string;
  filename: string;
  mime_type: string;
  size_bytes: string;
  width: number | null;
  height: number | null;
  storage_key: string;
  stored_bytes: string;
  created_at: Date;
};

function mediaFileOf(row: MediaFileRow): MediaFileEntity {
  return Object.assign(new MediaFileEntity(), {
    id: row.id,
    merchantId: row.merchant_id,
    storeId: row.store_id,
    platformId: row.platform_id,
    filename: row.filename,
    mimeType: row.mime_type,
    sizeBytes: row.size_bytes,
    width: row.width,
    height: row.height,
    storageKey: row.storage_key,
    storedBytes: row.stored_bytes,
    createdAt: row.created_at,
  });
}

/** The order variants are listed in: the original, then smaller and smaller. */
const VARIANT_ORDER: Record<VariantName, number> = { original: 0, medium: 1, thumb: 2 };

/** Owns media's SQL. Every read that a resolver can fan out over is one statement per batch. */
export class MediaStore {
  constructor(private readonly db: DataSource) {}

  /** Media files by id, in the order asked, null where unknown: one statement however many ids. */
  mediaFilesByIds(ids: readonly string[]): Promise<(MediaFileEntity | null)[]> {
    return findByKeys(this.db, MediaFileEntity, 'id', ids);
  }

  /** max_storage_mb usage: ceil(stored bytes / 1 MiB) per (merchant, platform), one statement per batch. */
  async storageMbOfMerchants(keys: readonly MerchantPlatform[]): Promise<number[]> {
    return (await this.storedBytesOfMerchants(keys)).map(toMbRoundedUp);
  }

  /** The stored bytes per (merchant, platform), one statement per batch (also inside a transaction: `db` its manager). */
  storedBytesOfMerchants(keys: readonly MerchantPlatform[], db: DataSource | EntityManager = this.db): Promise<bigint[]> {
    return aggregateBigIntPerPair(db, STORED_BYTES_OF_MERCHANT, keys.map((k) => [k.merchantId, k.platformId]));
  }


  /** Every variant of many files, each file's in a fixed order (original, medium, thumb): one statement. */
  async variantsOfFiles(ids: readonly string[]): Promise<MediaVariantEntity[][]> {
    const valid = ids.filter(isUuid);
    if (!valid.length) return ids.map(() => []);
    const variants = await this.db.getRepository(MediaVariantEntity).createQueryBuilder('v').where('v.media_file_id = ANY(:ids)', { ids: valid }).getMany();
    const byFile = groupUnder(ids.map((id) => id.toLowerCase()), variants, (variant) => variant.mediaFileId);
    return byFile.map((group) => [...group].sort((a, b) => VARIANT_ORDER[a.name] - VARIANT_ORDER[b.name]));
  }

  /** Files per store (of the given merchant), one statement per batch. */
  fileCountsOfStores(keys: readonly StoreOfMerchant[]): Promise<number[]> {
    return aggregatePerPair(this.db, { from: 'media.media_files', columns: ['store_id', 'merchant_id'], aggregate: 'count(*)' }, keys.map((k) => [k.storeId, k.merchantId]));
  }


  /** Pages of many stores in one statement, newest first (see storeKeysetPages). */
  mediaPages(requests: readonly MediaPageRequest[]): Promise<MediaPage[]> {
    return storeKeysetPages(this.db, { from: 'media.media_files', direction: 'DESC' }, requests, mediaFileOf);
  }


  /**
   * Totals of every stored file from the database (never from the disk): the bytes are the sum of the counter rows
   * media_files' triggers keep (STORED_BYTES), not a sum over every file; files and variants, which have no
   * counter, are counted.
   */
  async storageTotals(): Promise<StorageTotals> {
    const [row]: Array<{ files: number; variants: number; bytes: string }> = await this.db.query(
      `SELECT (SELECT count(*)::int FROM media.media_files) AS files,
              (SELECT count(*)::int FROM media.media_variants) AS variants,
              (SELECT coalesce(sum(n), 0)::text FROM ${STORED_BYTES.counter}) AS bytes`,
    );
    return { totalFiles: row.files, totalVariants: row.variants, totalBytes: row.bytes };
  }

  /** Per-request batching: one statement per kind of read, however many entities a plan asks for. */
  createLoaders() {
    return {
      mediaFile: new DataLoader((ids: readonly string[]) => this.mediaFilesByIds(ids)),
      variantsOfFile: new DataLoader((ids: readonly string[]) => this.variantsOfFiles(ids)),
      storageMbOfMerchant: new DataLoader((keys: readonly MerchantPlatform[]) => this.storageMbOfMerchants(keys), {
        cacheKeyFn: merchantPlatformKey,
      }),
      fileCountOfStore: new DataLoader((keys: readonly StoreOfMerchant[]) => this.fileCountsOfStores(keys), {
        cacheKeyFn: storeOfMerchantKey,
      }),
      mediaPage: new DataLoader((requests: readonly MediaPageRequest[]) => this.mediaPages(requests), {
        cacheKeyFn: storePageKey,
      }),
    };
  }

  // ───────────── writes ─────────────

  /**
   * Inserts a file and its variants within max_storage_mb (`limit` in MiB, null: unlimited) in one transaction: the
   * merchant's lock on the feature, the bytes in use under it plus `addingBytes` checked against the limit, then
   * `placeFiles` (the files on disk) and the rows. Racing uploads never pass the limit.
   */
  insertMediaFileWithinLimit(
    limit: number | null,
    addingBytes: bigint,
    values: NewMediaFile,
    placeFiles: () => Promise<void>,
  ): Promise<{ file: MediaFileEntity; variants: MediaVariantEntity[] }> {
    return insertWithinLimit(this.db, {
      featureCode: MAX_STORAGE_MB,
      pair: values,
      limit,
      measure: async (manager) => ({ used: await this.storedBytesOfMerchant(manager, values), adding: addingBytes, unit: BYTES_PER_MB }),
      insert: async (manager) => {
        await placeFiles();
        return this.insertMediaFile(manager, values);
      },
    });
  }

  /**
   * What max_storage_mb counts, inside the caller's transaction: storedBytesOfMerchants' counter row, which
   * media_files' triggers keep in the writing transaction (under the feature's lock here).
   */
  async storedBytesOfMerchant(manager: EntityManager, key: MerchantPlatform): Promise<bigint> {
    const [bytes] = await this.storedBytesOfMerchants([key], manager);
    return bytes;
  }

  /** Says, before any file is written, that files of this key may appear on disk (committed at once). */
  async recordIntent(storageKey: string): Promise<void> {
    await this.db.query(`INSERT INTO media.file_intents (storage_key) VALUES ($1)`, [storageKey]);
  }

  async clearIntent(storageKey: string): Promise<void> {
    await this.db.query(`DELETE FROM media.file_intents WHERE storage_key = $1`, [storageKey]);
  }

  /** Inserts a file and its variants, and clears the key's intent, in the caller's transaction. */
  async insertMediaFile(manager: EntityManager, values: NewMediaFile): Promise<{ file: MediaFileEntity; variants: MediaVariantEntity[] }> {
    const { variants, ...file } = values;
    // the upload's intent, claimed by this transaction: gone means a sweep took the key (the upload outlived the
    // grace period), so its files may be half removed and nothing is stored
    const claimed: Array<{ storage_key: string }> = await manager.query(
      `WITH claimed AS (DELETE FROM media.file_intents WHERE storage_key = $1 RETURNING storage_key) SELECT storage_key FROM claimed`,
      [file.storageKey],
    );
    if (!claimed.length) throw new Error(`the intent of upload ${file.storageKey} was swept before the upload finished`);
    const original = variants.find((v) => v.name === 'original');
    const storedBytes = variants.reduce((sum, v) => sum + v.sizeBytes, 0);
    const [row]: MediaFileRow[] = await manager.query(
      `INSERT INTO media.media_files (merchant_id, store_id, platform_id, filename, mime_type, size_bytes, width, height, storage_key, stored_bytes)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING *`,
      [file.merchantId, file.storeId, file.platformId, file.filename, file.mimeType, original?.sizeBytes ?? 0, file.width, file.height, file.storageKey, storedBytes],
    );
    await manager.query(
      `INSERT INTO media.media_variants (media_file_id, name, mime_type, width, height, size_bytes, path)
       SELECT $1, * FROM unnest($2::text[], $3::text[], $4::int[], $5::int[], $6::bigint[], $7::text[])`,
      [
        row.id,
        variants.map((v) => v.name),
        variants.map((v) => v.mimeType),
        variants.map((v) => v.width),
        variants.map((v) => v.height),
        variants.map((v) => v.sizeBytes),
        variants.map((v) => v.path),
      ],
    );
    const saved = await manager.getRepository(MediaVariantEntity).findBy({ mediaFileId: row.id });
    return { file: mediaFileOf(row), variants: saved.sort((a, b) => VARIANT_ORDER[a.name] - VARIANT_ORDER[b.name]) };
  }

  /**
   * Deletes a file's rows once, and in the same transaction records the intent to remove its files (so a crash
   * before they are gone leaves work for the sweeper, never a file nobody knows): its storage key and the paths,
   * or null when the file is unknown or already deleted.
   */
  async deleteMediaFile(id: string): Promise<{ storageKey: string; paths: string[] } | null> {
    return this.db.transaction(async (manager) => {
      const paths: Array<{ path: string }> = await manager.query(`SELECT path FROM media.media_variants WHERE media_file_id = $1`, [id]);
      const deleted: Array<{ storage_key: string; merchant_id: string; platform_id: string; store_id: string }> = await manager.query(
        `WITH deleted AS (DELETE FROM media.media_files WHERE id = $1 RETURNING storage_key, merchant_id, platform_id, store_id)
         SELECT storage_key, merchant_id, platform_id, store_id FROM deleted`,
        [id],
      );
      if (!deleted.length) return null;
      // response tags: this answer names them; the counter's trigger NOTIFYs them on commit
      changedTags(tag.merchantPlatform({ merchantId: deleted[0].merchant_id, platformId: deleted[0].platform_id }), tag.store(deleted[0].store_id));
      await manager.query(`INSERT INTO media.file_intents (storage_key) VALUES ($1) ON CONFLICT DO NOTHING`, [deleted[0].storage_key]);
      return { storageKey: deleted[0].storage_key, paths: paths.map((p) => p.path) };
    });
  }

  /**
   * Sweeps leftovers: in a transaction, claims intents older than `graceMs` by the database's clock (FOR UPDATE SKIP
   * LOCKED, so an upload finishing that key at this moment keeps it) together with whether a row has the key, hands
   * each key without one to `removeFiles`, then drops the claimed intents: two statements however many keys. A crash
   * in between rolls the claim back and the next sweep tries again. Returns the keys swept.
   */
  async sweepIntents(graceMs: number, removeFiles: (storageKey: string) => Promise<void>): Promise<string[]> {
    return this.db.transaction(async (manager) => {
      // an intent whose row exists is impossible by construction; such files are kept all the same
      const rows: Array<{ storage_key: string; stored: boolean }> = await manager.query(
        `SELECT i.storage_key, EXISTS (SELECT 1 FROM media.media_files f WHERE f.storage_key = i.storage_key) AS stored
           FROM media.file_intents i
          WHERE i.created_at <= now() - $1 * interval '1 millisecond'
          ORDER BY i.created_at LIMIT 500 FOR UPDATE OF i SKIP LOCKED`,
        [graceMs],
      );
      for (const row of rows) if (!row.stored) await removeFiles(row.storage_key);
      const swept = rows.map((row) => row.storage_key);
      if (swept.length) await manager.query(`DELETE FROM media.file_intents WHERE storage_key = ANY($1)`, [swept]);
      return swept;
    });
  }
}

export type MediaLoaders = ReturnType<MediaStore['createLoaders']>;
