import DataLoader from 'dataloader';
import { findByKeys, isUuid } from '@tiergraph/runtime';
import type { DataSource } from 'typeorm';
import { MediaFileEntity } from './entities';

/** A merchant on a platform: what merchant-scoped features are counted per. */
export interface MerchantKey {
  merchantId: string;
  platformId: string;
}

/** 1 MiB: max_storage_mb counts in these, rounded up. */
export const BYTES_PER_MB = 1024 * 1024;

/** Owns media's SQL. Every read that a resolver can fan out over is one statement per batch. */
export class MediaStore {
  constructor(private readonly db: DataSource) {}

  /** Media files by id, in the order asked, null where unknown: one statement however many ids. */
  mediaFilesByIds(ids: readonly string[]): Promise<(MediaFileEntity | null)[]> {
    return findByKeys(this.db, MediaFileEntity, 'id', ids);
  }

  /** max_storage_mb usage: ceil(total bytes / 1 MiB) per (merchant, platform), one statement per batch. */
  async storageMbOfMerchants(keys: readonly MerchantKey[]): Promise<number[]> {
    const valid = keys.filter((k) => isUuid(k.merchantId) && isUuid(k.platformId));
    if (!valid.length) return keys.map(() => 0);
    const rows: Array<{ merchant_id: string; platform_id: string; mb: string }> = await this.db.query(
      `SELECT merchant_id, platform_id, ceil(sum(size_bytes) / $3::numeric)::bigint AS mb
         FROM media.media_files
        WHERE (merchant_id, platform_id) IN (SELECT * FROM unnest($1::uuid[], $2::uuid[]))
        GROUP BY merchant_id, platform_id`,
      [valid.map((k) => k.merchantId), valid.map((k) => k.platformId), BYTES_PER_MB],
    );
    const totals = new Map(rows.map((r) => [`${r.merchant_id}:${r.platform_id}`, Number(r.mb)]));
    return keys.map((k) => totals.get(`${k.merchantId.toLowerCase()}:${k.platformId.toLowerCase()}`) ?? 0);
  }

  /** Per-request batching: one statement per kind of read, however many entities a plan asks for. */
  createLoaders() {
    return {
      mediaFile: new DataLoader((ids: readonly string[]) => this.mediaFilesByIds(ids)),
      storageMbOfMerchant: new DataLoader((keys: readonly MerchantKey[]) => this.storageMbOfMerchants(keys), {
        cacheKeyFn: (k) => `${k.merchantId}:${k.platformId}`,
      }),
    };
  }
}

export type MediaLoaders = ReturnType<MediaStore['createLoaders']>;
