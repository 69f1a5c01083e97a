import { PlatformFiguresOnce, type Caller } from '@tiergraph/runtime';
import type { MediaStore } from '../store/media-store';

/** Media's platform-wide figures. */
export interface MediaPlatformFigures {
  mediaFileCount: number;
  mediaVariantCount: number;
  /** Bytes of every stored variant (a Float in the graph: exact to 2^53). */
  mediaStoredBytes: number;
}

/** Media's contribution to PlatformMetrics: for admins and services only, counted once per request. */
export type MediaPlatformFiguresService = PlatformFiguresOnce<MediaPlatformFigures>;

/** From the rows, as mediaStorageStats: the storage store's one statement of totals is the only SQL. */
export function createMediaPlatformFiguresService(store: Pick<MediaStore, 'storageTotals'>, caller: Caller): MediaPlatformFiguresService {
  return new PlatformFiguresOnce(caller, async () => {
    const totals = await store.storageTotals();
    return { mediaFileCount: totals.totalFiles, mediaVariantCount: totals.totalVariants, mediaStoredBytes: Number(totals.totalBytes) };
  });
}
