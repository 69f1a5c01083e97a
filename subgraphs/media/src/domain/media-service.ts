import {
  assertCanReadMerchant,
  canReadStore,
  ForbiddenError,
  isUuid,
  merchantPlatform,
  NotFoundError,
  type StoreDirectory,
  verifiedStore,
  type Caller,
  type FeatureUsage,
  type StoreReference,
} from '@tiergraph/runtime';
import type { MediaFileEntity } from '../store/entities';
import type { MediaLoaders, MerchantKey } from '../store/media-store';
import { MAX_STORAGE_MB } from './features';

/** A Store as the graph hands it to media: its key, plus tenancy's fields where a field @requires them. */
export type StoreRepresentation = StoreReference;


/** Media's rules for one request: who may read which file and the storage a merchant uses. */
export class MediaService {
  constructor(
    private readonly loaders: MediaLoaders,
    private readonly caller: Caller,
    private readonly stores: StoreDirectory,
  ) {}

  /** A media file is visible to whoever may read its store; unknown (or non-uuid) ids are NOT_FOUND. */
  async mediaFile(id: string): Promise<MediaFileEntity> {
    const file = isUuid(id) ? await this.loaders.mediaFile.load(id) : null;
    if (!file) throw new NotFoundError('MediaFile', id);
    if (!canReadStore(this.caller, { id: file.storeId, merchantId: file.merchantId })) {
      throw new ForbiddenError('this media file belongs to another tenant');
    }
    return file;
  }

  // ───────────── usage: media's part of billing's fan-out ─────────────

  /** max_storage_mb for a merchant on a platform: admins and services, the merchant itself and its store users. */
  async usageOfMerchant(key: MerchantKey): Promise<FeatureUsage[]> {
    assertCanReadMerchant(this.caller, key.merchantId);
    return [{ code: MAX_STORAGE_MB, current: await this.loaders.storageMbOfMerchant.load(merchantPlatform(key.merchantId, key.platformId)) }];
  }

  /** The same, reached from a store: whoever may read the store (merchant-scoped, so the merchant's total). */
  async usageOfStore(store: StoreRepresentation): Promise<FeatureUsage[]> {
    const { merchantId, platformId } = await verifiedStore(this.caller, store, this.stores);
    return [{ code: MAX_STORAGE_MB, current: await this.loaders.storageMbOfMerchant.load({ merchantId, platformId }) }];
  }

  // ───────────── federation references: the same rules as any read ─────────────

  referencedMediaFile(id: string): Promise<MediaFileEntity> {
    return this.mediaFile(id);
  }

  /** Only the key travels; the usage field checks who asks. */
  async referencedMerchantSubscription(key: MerchantKey): Promise<MerchantKey> {
    assertCanReadMerchant(this.caller, key.merchantId);
    return { merchantId: key.merchantId, platformId: key.platformId };
  }
}
