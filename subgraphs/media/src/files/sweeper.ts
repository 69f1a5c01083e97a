import { rm } from 'node:fs/promises';
import type { Logger } from '@tiergraph/runtime';
import type { MediaStore } from '../store/media-store';
import type { FileTree } from './file-tree';

export interface SweepResult {
  /** Storage keys whose leftover files were removed (an upload or delete that a crash cut short). */
  keys: string[];
  /** Upload bodies in `.tmp/` that no request is writing any more. */
  uploads: number;
}

/**
 * Removes what a crash left: files of keys that have an intent but no row (an upload that died between its
 * file writes and its commit, a delete that died before its files were gone), and stale upload bodies in
 * `.tmp/`. Only leftovers older than `graceMs` are touched, so requests still running (here or in another
 * instance on the same root) keep theirs. Cheap: it reads the intents, never the whole tree.
 */
export async function sweepOrphans(store: MediaStore, files: FileTree, graceMs: number): Promise<SweepResult> {
  const keys = await store.sweepIntents(graceMs, (key) => files.remove(files.allPathsOf(key)));
  const uploads = await files.staleUploads(Date.now() - graceMs);
  await Promise.all(uploads.map((path) => rm(path, { force: true })));
  return { keys, uploads: uploads.length };
}

/** The sweep at start, then every `intervalMs` (0: only at start); stop() waits for a sweep in progress. */
export function startSweeper(store: MediaStore, files: FileTree, options: { graceMs: number; intervalMs: number; logger: Logger }): { stop: () => Promise<void> } {
  let running: Promise<void> | undefined;
  let stopped = false;
  const sweep = () => {
    if (stopped || running) return;
    running = sweepOrphans(store, files, options.graceMs)
      .then(
        (result) => {
          if (result.keys.length || result.uploads) options.logger.info(result, 'media sweeper removed leftovers of interrupted uploads or deletes');
        },
        (error) => options.logger.warn({ err: error }, 'media sweep failed; the next one tries again'),
      )
      .finally(() => {
        running = undefined;
      });
  };
  sweep();
  const timer = options.intervalMs > 0 ? setInterval(sweep, options.intervalMs) : undefined;
  timer?.unref();
  return {
    stop: async () => {
      stopped = true;
      if (timer) clearInterval(timer);
      await running;
    },
  };
}
