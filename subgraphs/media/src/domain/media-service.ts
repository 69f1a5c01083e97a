import {
  assertCanReadMerchant,
  BadUserInputError,
  assertCanWriteStore,
  isUuid,
  merchantPlatform,
  NotFoundError,
  parseInput,
  requireAdmin,
  readableStoreRow,
  referencedMerchantPlatform,
  storeConnection,
  verifiedStore,
  writableStore,
  type Caller,
  type Connection,
  type EntitlementSource,
  type FeatureUsage,
  type Logger,
  type MerchantPlatform,
  type StoreDirectory,
  type StoreReference,
} from '@tiergraph/runtime';
import { limitForCreating } from '@tiergraph/plans';
import { rm, stat } from 'node:fs/promises';
import { newStorageKey, variantPath, type FileTree } from '../files/file-tree';
import { processImage } from '../files/images';
import type { MediaFileEntity, MediaVariantEntity } from '../store/entities';
import type { MediaLoaders, MediaStore, NewVariant } from '../store/media-store';

import { MAX_STORAGE_MB } from '../features';
import type { MediaSettings } from './settings';

/** A Store as the graph hands it to media: its key, plus tenancy's fields where a field @requires them. */
export type StoreRepresentation = StoreReference;

export type MediaConnectionResult = Connection<MediaFileEntity>;

export interface StorageStats {
  totalFiles: number;
  totalVariants: number;
  totalSizeBytes: number;
  totalSizeGb: number;
}

export interface UploadRequest {
  storeId: string | undefined;
  /** The client's name: kept for display (trimmed, at most 255 characters), never used as a path. */
  filename: string | undefined;
  /** The upload body, streamed to a file of the tree's `.tmp/`; the service removes or moves it. */
  bodyPath: string;
}

export interface MediaServiceDependencies {
  store: MediaStore;
  loaders: MediaLoaders;
  stores: StoreDirectory;
  entitlements: EntitlementSource;
  files: FileTree;
  settings: MediaSettings;
  logger: Logger;
}


const GiB = 1024 ** 3;

/** Media's rules for one request: who may upload, read and delete which file, and the storage a merchant uses. */
export class MediaService {
  constructor(
    private readonly deps: MediaServiceDependencies,
    private readonly caller: Caller,
  ) {}

  // ───────────── reads ─────────────

  /** A media file is visible to whoever may read its store; unknown (or non-uuid) ids are NOT_FOUND. */
  async mediaFile(id: string): Promise<MediaFileEntity> {
    return readableStoreRow(this.caller, isUuid(id) ? await this.deps.loaders.mediaFile.load(id) : null, 'MediaFile', id, 'media file');
  }

  variantsOf(file: MediaFileEntity): Promise<MediaVariantEntity[]> {
    return this.deps.loaders.variantsOfFile.load(file.id);
  }

  /** Where a variant is served: `<MEDIA_PUBLIC_URL>/media/files/<path>` (a path alone without one). */
  urlOf(variant: MediaVariantEntity): string {
    return `${this.deps.settings.publicUrl ?? ''}/media/files/${variant.path}`;
  }

  /** A store's files, newest first, a Relay page (first 1 to 100, after an earlier endCursor). */
  async mediaOfStore(store: StoreRepresentation, args: { first?: number | null; after?: string | null }): Promise<MediaConnectionResult> {
    return storeConnection(this.caller, store, args, { page: this.deps.loaders.mediaPage, count: this.deps.loaders.fileCountOfStore });
  }

  /** Admins: every stored file's totals, from the rows (the disk is never walked). */
  async storageStats(): Promise<StorageStats> {
    requireAdmin(this.caller);
    const totals = await this.deps.store.storageTotals();
    const bytes = Number(totals.totalBytes);
    return { totalFiles: totals.totalFiles, totalVariants: totals.totalVariants, totalSizeBytes: bytes, totalSizeGb: Math.round((bytes / GiB) * 1e6) / 1e6 };
  }

  // ───────────── usage: media's part of billing's fan-out ─────────────

  /** max_storage_mb for a merchant on a platform: admins and services, the merchant itself and its store users. */
  async usageOfMerchant(key: MerchantPlatform): Promise<FeatureUsage[]> {
    assertCanReadMerchant(this.caller, key.merchantId);
    return [{ code: MAX_STORAGE_MB, current: await this.deps.loaders.storageMbOfMerchant.load(merchantPlatform(key.merchantId, key.platformId)) }];
  }

  /** The same, reached from a store: whoever may read the store (merchant-scoped, so the merchant's total). */
  async usageOfStore(store: StoreRepresentation): Promise<FeatureUsage[]> {
    const { merchantId, platformId } = await verifiedStore(this.caller, store, this.deps.stores);
    return [{ code: MAX_STORAGE_MB, current: await this.deps.loaders.storageMbOfMerchant.load({ merchantId, platformId }) }];
  }

  // ───────────── writes ─────────────

  /**
   * Stores an uploaded image: the store must exist and be the caller's to change; the body must decode as an
   * accepted image within the pixel limit; the original and its WebP variants must fit in the merchant's
   * max_storage_mb, checked and inserted under the per-merchant lock (racing uploads never pass the limit).
   * The files are written (temporary name, then rename) inside that transaction, after an intent row that
   * lets the sweeper remove them should the process die before the commit; any failure removes them.
   */
  async upload(request: UploadRequest): Promise<{ file: MediaFileEntity; variants: MediaVariantEntity[] }> {
    const { files, store: mediaStore } = this.deps;
    try {
      if (!request.storeId) throw new BadUserInputError('storeId is required (a form field beside file)', 'storeId');
      const store = await writableStore(this.caller, this.deps.stores, request.storeId, "change a store's media");
      const filename = displayName(request.filename);
      const image = await processImage(request.bodyPath, this.deps.settings.maxInputPixels);
      const key = newStorageKey();
      const variants: NewVariant[] = [
        {
          name: 'original',
          mimeType: image.format.mimeType,
          width: image.width,
          height: image.height,
          sizeBytes: await sizeOf(request.bodyPath),
          path: variantPath(key, 'original', image.format.extension),
        },
        ...image.variants.map((v) => ({ name: v.name, mimeType: 'image/webp', width: v.width, height: v.height, sizeBytes: v.data.length, path: variantPath(key, v.name, 'webp') })),
      ];
      const newBytes = BigInt(variants.reduce((sum, v) => sum + v.sizeBytes, 0));
      const merchant = { merchantId: store.merchantId, platformId: store.platformId };
      const { limit } = await limitForCreating(this.deps.entitlements, MAX_STORAGE_MB, merchant);
      let written = false;
      await mediaStore.recordIntent(key);
      try {
        const file = { ...merchant, storeId: store.id, filename, mimeType: image.format.mimeType, width: image.width, height: image.height, storageKey: key, variants };
        // the files are placed under the lock, after the check and before the insert, in the store's transaction
        return await mediaStore.insertMediaFileWithinLimit(limit, newBytes, file, async () => {
          written = true;
          await files.moveInto(request.bodyPath, variants[0].path);
          for (const variant of image.variants) await files.writeAtomically(variantPath(key, variant.name, 'webp'), variant.data);
        });
      } catch (error) {
        // the transaction rolled back: nothing points at the files, so they go (the intent too, or the sweeper's)
        if (written) await files.remove(variants.map((v) => v.path));
        await mediaStore.clearIntent(key).catch((e) => this.deps.logger.warn({ err: e, key }, 'intent left for the sweeper'));
        throw error;
      }
    } finally {
      await rm(request.bodyPath, { force: true });
    }
  }

  /** Deletes a file's rows and then its files (freeing its storage); NOT_FOUND when unknown or already deleted. */
  async deleteMedia(id: string): Promise<boolean> {
    const file = isUuid(id) ? await this.deps.loaders.mediaFile.load(id) : null;
    if (!file) throw new NotFoundError('MediaFile', id);
    assertCanWriteStore(this.caller, { id: file.storeId, merchantId: file.merchantId }, "change a store's media");
    const deleted = await this.deps.store.deleteMediaFile(file.id);
    if (!deleted) throw new NotFoundError('MediaFile', id);
    await this.deps.files.remove(deleted.paths);
    await this.deps.store.clearIntent(deleted.storageKey);
    return true;
  }

  // ───────────── federation references: the same rules as any read ─────────────

  referencedMediaFile(id: string): Promise<MediaFileEntity> {
    return this.mediaFile(id);
  }

  /** Only the key travels; the usage field checks who asks. */
  async referencedMerchantSubscription(key: MerchantPlatform): Promise<MerchantPlatform> {
    return referencedMerchantPlatform(this.caller, key);
  }
}

async function sizeOf(path: string): Promise<number> {
  return (await stat(path)).size;
}

/**
 * What the client called the file, kept for display only: at most 255 characters, no folder separators, no
 * control characters, not `.` or `..` (BAD_USER_INPUT on filename). Browsers send a bare name; anything else is
 * a crafted request, refused rather than guessed at. No name at all: `upload`.
 */
export function displayName(filename: string | undefined): string {
  const name = (filename ?? '').trim();
  if (!name) return 'upload';
  // eslint-disable-next-line no-control-regex
  if (/[\\/\u0000-\u001f\u007f]/.test(name) || name === '.' || name === '..' || name.length > 255) {
    throw new BadUserInputError('filename must be a bare file name (no folders, no control characters, at most 255 characters)', 'filename');
  }
  return name;
}
