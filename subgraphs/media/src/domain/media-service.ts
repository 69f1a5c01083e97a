import { canReadStore, ForbiddenError, isUuid, NotFoundError, type Caller } from '@tiergraph/runtime';
import type { MediaFileEntity } from '../store/entities';
import type { MediaLoaders } from '../store/media-store';

/** Media's rules for one request: who may read which file. */
export class MediaService {
  constructor(
    private readonly loaders: MediaLoaders,
    private readonly caller: Caller,
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

  // ───────────── federation references: the same rules as any read ─────────────

  referencedMediaFile(id: string): Promise<MediaFileEntity> {
    return this.mediaFile(id);
  }
}
