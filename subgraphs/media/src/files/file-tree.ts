import { randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { VariantName } from '../store/entities';

/** The name of one upload's files: 32 random hex digits, never anything a client sent. */
const STORAGE_KEY = /^[0-9a-f]{32}$/;

/** Every file name a variant can have, by variant: `_200.webp`, `_800.webp`, `_original.<ext>`. */
export const VARIANT_SUFFIXES: Record<VariantName, string> = { thumb: '_200', medium: '_800', original: '_original' };
export const ORIGINAL_EXTENSIONS = ['jpg', 'png', 'webp', 'gif', 'avif'] as const;
export type OriginalExtension = (typeof ORIGINAL_EXTENSIONS)[number];

/**
 * A path the file routes may serve: two shard folders that are the key's first four hex digits, then the key and
 * one of the variant suffixes. Nothing else matches, so no `..`, no absolute path, no other file of the root.
 */
const SERVABLE_PATH = /^([0-9a-f]{2})\/([0-9a-f]{2})\/(\1\2[0-9a-f]{28})(_200\.webp|_800\.webp|_original\.(?:jpg|png|webp|gif|avif))$/;

export const CONTENT_TYPES: Record<string, string> = {
  webp: 'image/webp',
  jpg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  avif: 'image/avif',
};

export function newStorageKey(): string {
  return randomBytes(16).toString('hex');
}

export function isStorageKey(key: string): boolean {
  return STORAGE_KEY.test(key);
}

/** `ab/cd/abcd…_200.webp`: two levels of 256 folders each, from the key's first four hex digits. */
export function variantPath(key: string, variant: VariantName, extension: string): string {
  if (!isStorageKey(key)) throw new Error(`not a storage key: ${key}`);
  return `${key.slice(0, 2)}/${key.slice(2, 4)}/${key}${VARIANT_SUFFIXES[variant]}.${extension}`;
}

/** The content type of a path the file routes may serve, or null when the path is not one. */
export function servableContentType(path: string): string | null {
  const match = SERVABLE_PATH.exec(path);
  if (!match) return null;
  return CONTENT_TYPES[match[4].slice(match[4].lastIndexOf('.') + 1)];
}

/**
 * The sharded tree of media files under one root. Files appear whole or not at all: each is written under a
 * temporary name in its final folder and renamed (atomic on one file system), so a crash never leaves a half
 * file at a name the database points to. Uploads in progress live in `<root>/.tmp/`.
 */
export class FileTree {
  readonly tmpDir: string;

  constructor(readonly root: string) {
    this.tmpDir = join(root, '.tmp');
  }

  async ensureRoot(): Promise<void> {
    await mkdir(this.tmpDir, { recursive: true });
  }

  absolute(relativePath: string): string {
    return join(this.root, relativePath);
  }

  /** A fresh file in `.tmp/` for one upload's body (its name is random, not the client's). */
  createUploadFile(): { path: string; stream: WriteStream } {
    const path = join(this.tmpDir, `${randomBytes(12).toString('hex')}.upload`);
    return { path, stream: createWriteStream(path, { flags: 'wx', mode: 0o640 }) };
  }

  /** Writes bytes to `relativePath` atomically: a temporary name beside it, fsync, rename. */
  async writeAtomically(relativePath: string, data: Buffer): Promise<void> {
    const target = this.absolute(relativePath);
    await mkdir(join(target, '..'), { recursive: true });
    const temporary = `${target}.tmp`;
    const handle = await open(temporary, 'w', 0o640);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, target);
  }

  /** Moves a finished upload body (in `.tmp/`, the same file system) to `relativePath`. */
  async moveInto(uploadPath: string, relativePath: string): Promise<void> {
    const target = this.absolute(relativePath);
    await mkdir(join(target, '..'), { recursive: true });
    await rename(uploadPath, target);
  }

  /** Removes files (and their temporary names) that may or may not exist. */
  async remove(relativePaths: readonly string[]): Promise<void> {
    await Promise.all(
      relativePaths.flatMap((p) => [rm(this.absolute(p), { force: true }), rm(`${this.absolute(p)}.tmp`, { force: true })]),
    );
  }

  /** Every path a key's files can have: what a sweep removes for a key without a row. */
  allPathsOf(key: string): string[] {
    return [
      variantPath(key, 'thumb', 'webp'),
      variantPath(key, 'medium', 'webp'),
      ...ORIGINAL_EXTENSIONS.map((extension) => variantPath(key, 'original', extension)),
    ];
  }

  /** Upload bodies in `.tmp/` last changed before `before` (their request is long over). */
  async staleUploads(before: number): Promise<string[]> {
    const names = await readdir(this.tmpDir).catch(() => [] as string[]);
    const stale: string[] = [];
    for (const name of names) {
      const path = join(this.tmpDir, name);
      const info = await stat(path).catch(() => null);
      if (info?.isFile() && info.mtimeMs < before) stale.push(path);
    }
    return stale;
  }
}
