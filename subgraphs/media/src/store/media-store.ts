import DataLoader from 'dataloader';
import { findByKeys } from '@tiergraph/runtime';
import type { DataSource } from 'typeorm';
import { MediaFileEntity } from './entities';

/** Owns media's SQL. Every read that a resolver can fan out over is a batched `= ANY(:ids)`. */
export class MediaStore {
  constructor(private readonly db: DataSource) {}

  /** Media files by id, in the order asked, null where unknown: one statement however many ids. */
  mediaFilesByIds(ids: readonly string[]): Promise<(MediaFileEntity | null)[]> {
    return findByKeys(this.db, MediaFileEntity, 'id', ids);
  }

  /** Per-request batching: one statement per kind of read, however many entities a plan asks for. */
  createLoaders() {
    return {
      mediaFile: new DataLoader((ids: readonly string[]) => this.mediaFilesByIds(ids)),
    };
  }
}

export type MediaLoaders = ReturnType<MediaStore['createLoaders']>;
