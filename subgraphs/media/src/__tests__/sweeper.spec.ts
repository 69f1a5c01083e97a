import { mkdtemp, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { billingSubgraph } from '@tiergraph/billing';
import type { RunningSubgraph } from '@tiergraph/runtime';
import { tenancySubgraph } from '@tiergraph/tenancy';
import { createTestDatabase, createWorld, recordSqlStatements, startTestSubgraph, startTestSubgraphs, type TestDatabase, type World } from '@tiergraph/testkit';
import { DEFAULT_MEDIA_SETTINGS } from '../domain/settings';
import { FileTree, newStorageKey, variantPath } from '../files/file-tree';
import { sweepOrphans } from '../files/sweeper';
import { createMediaSubgraph } from '../index';
import { MediaStore } from '../store/media-store';
import { jpeg } from './images';

let db: TestDatabase;
let root: string;
let running: Record<'billing' | 'tenancy' | 'media', RunningSubgraph>;
let w: World;
const storage = () => ({ ...DEFAULT_MEDIA_SETTINGS, root, publicUrl: undefined });

beforeAll(async () => {
  db = await createTestDatabase();
  root = await mkdtemp(join(tmpdir(), 'media-sweep-'));
  running = await startTestSubgraphs(
    { billing: billingSubgraph, tenancy: tenancySubgraph, media: createMediaSubgraph({ cors: { origins: [], credentials: false }, storage: storage() }) },
    db.url,
  );
  w = await createWorld({ tenancy: running.tenancy.url, billing: running.billing.url });
});

afterAll(async () => {
  await Promise.all(Object.values(running ?? {}).map((s) => s.stop()));
  await db?.drop();
  if (root) await rm(root, { recursive: true, force: true });
});

async function filesOnDisk(): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string) => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else found.push(relative(root, path));
    }
  };
  await walk(root);
  return found.sort();
}

async function uploadOne(): Promise<{ id: string; paths: string[] }> {
  const form = new FormData();
  form.append('storeId', w.s1);
  form.append('file', new Blob([await jpeg(300, 200)]), 'kept.jpg');
  const response = await fetch(`http://127.0.0.1:${running.media.port}/media/upload`, { method: 'POST', body: form, headers: { authorization: `Bearer ${w.tokens.store1}` } });
  expect(response.status).toBe(201);
  const body = (await response.json()) as { id: string; variants: Array<{ url: string }> };
  return { id: body.id, paths: body.variants.map((v: { url: string }) => v.url.replace('/media/files/', '')) };
}

/**
 * What an upload leaves when the process dies after writing its files and before its commit: the intent row
 * (committed first), the renamed original and variants, a variant still under its temporary name, and the
 * body of another upload in .tmp/.
 */
async function crashMidUpload(store: MediaStore, files: FileTree): Promise<{ key: string; paths: string[]; body: string }> {
  const key = newStorageKey();
  await store.recordIntent(key);
  const body = files.createUploadFile();
  body.stream.end(await jpeg(300, 200));
  await new Promise<void>((resolve) => body.stream.on('finish', () => resolve()));
  const original = variantPath(key, 'original', 'jpg');
  await files.moveInto(body.path, original);
  await files.writeAtomically(variantPath(key, 'medium', 'webp'), Buffer.from('RIFF....WEBPVP8 '));
  const half = `${variantPath(key, 'thumb', 'webp')}.tmp`;
  await writeFile(files.absolute(half), Buffer.from('RIFF'));
  const other = files.createUploadFile();
  other.stream.end(Buffer.from('half a body'));
  await new Promise<void>((resolve) => other.stream.on('finish', () => resolve()));
  return { key, paths: [original, variantPath(key, 'medium', 'webp'), half], body: other.path };
}

const intents = async (): Promise<string[]> =>
  (await running.media.dataSource.query(`SELECT storage_key FROM media.file_intents ORDER BY storage_key`)).map((r: { storage_key: string }) => r.storage_key);

describe('media: what a crash leaves is swept', () => {
  it('removes the files of an upload that died between its file writes and its insert, and keeps stored files', async () => {
    const store = new MediaStore(running.media.dataSource);
    const files = new FileTree(root);
    const kept = await uploadOne();
    const crash = await crashMidUpload(store, files);
    const before = await filesOnDisk();
    for (const path of crash.paths) expect(before).toContain(path);
    expect(before).toContain(relative(root, crash.body));
    expect(await intents()).toEqual([crash.key]);

    // within the grace period nothing is touched: the upload might still be running
    expect(await sweepOrphans(store, files, 60_000)).toEqual({ keys: [], uploads: 0 });
    expect(await filesOnDisk()).toEqual(before);

    expect(await sweepOrphans(store, files, 0)).toEqual({ keys: [crash.key], uploads: 1 });
    expect(await filesOnDisk()).toEqual([...kept.paths].sort());
    expect(await intents()).toEqual([]);
    // the stored file is still whole and served
    for (const path of kept.paths) expect((await stat(join(root, path))).size).toBeGreaterThan(0);
    expect((await fetch(`http://127.0.0.1:${running.media.port}/media/files/${kept.paths[1]}`)).status).toBe(200);
  });

  it('sweeps many leftovers with two statements however many keys (the claim with whether a row has the key, then one delete)', async () => {
    const store = new MediaStore(running.media.dataSource);
    const files = new FileTree(root);
    const crashes = [await crashMidUpload(store, files), await crashMidUpload(store, files), await crashMidUpload(store, files)];
    const recorded = recordSqlStatements();
    let swept: string[];
    try {
      swept = (await store.sweepIntents(0, (key) => files.remove(files.allPathsOf(key)))).sort();
    } finally {
      recorded.stop();
    }
    expect(swept).toEqual(crashes.map((c) => c.key).sort());
    expect(recorded.statements.filter((s) => /media\.(file_intents|media_files)/.test(s))).toHaveLength(2);
    const disk = await filesOnDisk();
    for (const path of crashes.flatMap((c) => c.paths)) expect(disk).not.toContain(path);
    expect(await intents()).toEqual([]);
    await sweepOrphans(store, files, 0); // the upload bodies crashMidUpload left
  });

  it('sweeps at start: a media process that comes up after a crash removes the leftovers older than its grace period', async () => {
    const store = new MediaStore(running.media.dataSource);
    const files = new FileTree(root);
    const crash = await crashMidUpload(store, files);
    await utimes(crash.body, new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));
    const restarted = await startTestSubgraph(createMediaSubgraph({ cors: { origins: [], credentials: false }, storage: { ...storage(), orphanGraceMs: 0, sweepIntervalMs: 0 } }), db.url);
    // stopping waits for the sweep it started
    await restarted.stop();
    const disk = await filesOnDisk();
    for (const path of [...crash.paths, relative(root, crash.body)]) expect(disk).not.toContain(path);
    expect(await intents()).toEqual([]);
  });

  it('keeps the intent of an upload whose transaction holds it (a sweep never removes files an upload is committing)', async () => {
    const store = new MediaStore(running.media.dataSource);
    const files = new FileTree(root);
    const crash = await crashMidUpload(store, files);
    const runner = running.media.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      // what insertMediaFile does first: claim the intent in the upload's transaction
      await runner.query(`DELETE FROM media.file_intents WHERE storage_key = $1`, [crash.key]);
      expect((await sweepOrphans(store, files, 0)).keys).not.toContain(crash.key);
      for (const path of crash.paths) expect((await stat(join(root, path))).isFile()).toBe(true);
      await runner.rollbackTransaction();
    } finally {
      await runner.release();
    }
    // rolled back (the upload failed): the intent is back and the next sweep removes the files
    expect(await sweepOrphans(store, files, 0)).toMatchObject({ keys: [crash.key] });
    for (const path of crash.paths) await expect(stat(join(root, path))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
