import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMediaSubgraph, developmentStorage } from '@tiergraph/media';
import { DEVELOPMENT_CORS } from '@tiergraph/runtime';
import { errorCodes, tokenFor } from '@tiergraph/testkit';
import sharp from 'sharp';
import { startTestGraph, type TestGraph, contractCaller } from './graph';

const MiB = 1024 * 1024;
let graph: TestGraph;
let root: string;
let admin: string;

const { send, ok } = contractCaller(() => graph, () => admin);

/** A picture that does not compress (random pixels), as a JPEG. */
function photo(width: number, height: number): Promise<Buffer> {
  return sharp(randomBytes(width * height * 3), { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 85 })
    .toBuffer();
}

/** POST /media/upload on the media port, as a browser form would send it (the gateway serves only /graphql). */
async function upload(token: string, storeId: string, data: Buffer, filename: string): Promise<{ status: number; body: any }> {
  const form = new FormData();
  form.append('storeId', storeId);
  form.append('file', new Blob([data], { type: 'image/jpeg' }), filename);
  const response = await fetch(`http://127.0.0.1:${graph.subgraphs.media.port}/media/upload`, { method: 'POST', body: form, headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, body: await response.json() };
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'media-e2e-'));
  graph = await startTestGraph({ media: createMediaSubgraph({ cors: DEVELOPMENT_CORS, storage: { ...developmentStorage(), root, publicUrl: 'https://media.example.com' } }) as never });
  admin = await tokenFor({ role: 'admin' });
});

afterAll(async () => {
  await graph?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

describe('media through the gateway', () => {
  it('StoreMedia, MediaStorageStats, MerchantFeatures (storage used) and DeleteMedia after real uploads', async () => {
    const n = randomUUID().slice(0, 8);
    const platform = (await ok('CreatePlatform', { input: { code: `m-${n}`, name: 'Media' } })).createPlatform;
    const merchant = (await ok('CreateMerchant', { input: { name: `Pics ${n}`, email: `pics-${n}@example.com` } })).createMerchant;
    const store = (await ok('CreateStore', { input: { merchantId: merchant.id, platformId: platform.id, code: 'shop', name: 'Shop' } })).createStore;
    await ok('UpdateMerchantSubscription', { merchantId: merchant.id, platformId: platform.id, input: { tierCode: 'essential', reason: 'signed up' } });
    const storeToken = await tokenFor({ role: 'store', merchantId: merchant.id, storeId: store.id });
    const merchantToken = await tokenFor({ role: 'merchant', merchantId: merchant.id });
    const statsBefore = (await ok('MediaStorageStats', {})).mediaStorageStats;

    const first = await upload(storeToken, store.id, await photo(1200, 900), 'front.jpg');
    const second = await upload(merchantToken, store.id, await photo(900, 1200), 'side.jpg');
    expect([first.status, second.status]).toEqual([201, 201]);
    const storedBytes = (u: { body: any }) => u.body.variants.reduce((sum: number, v: any) => sum + v.sizeBytes, 0);

    const { store: listed } = await ok('StoreMedia', { storeId: store.id, first: 10 }, storeToken);
    expect(listed.media.totalCount).toBe(2);
    // newest first, variants with their URLs on MEDIA_PUBLIC_URL
    expect(listed.media.edges.map((e: any) => [e.node.id, e.node.filename, e.node.mimeType, e.node.width, e.node.height])).toEqual([
      [second.body.id, 'side.jpg', 'image/jpeg', 900, 1200],
      [first.body.id, 'front.jpg', 'image/jpeg', 1200, 900],
    ]);
    const variants = listed.media.edges[1].node.variants;
    expect(variants.map((v: any) => [v.name, v.width, v.height])).toEqual([
      ['original', 1200, 900],
      ['medium', 800, 600],
      ['thumb', 200, 150],
    ]);
    expect(variants.map((v: any) => v.url)).toEqual(first.body.variants.map((v: any) => v.url));
    for (const v of variants) expect(v.url).toMatch(/^https:\/\/media\.example\.com\/media\/files\/[0-9a-f]{2}\/[0-9a-f]{2}\/[0-9a-f]{32}_(original\.jpg|800\.webp|200\.webp)$/);
    expect(listed.media.edges[1].node.sizeBytes).toBe(first.body.sizeBytes);

    const stats = (await ok('MediaStorageStats', {})).mediaStorageStats;
    expect(stats).toEqual({
      totalFiles: statsBefore.totalFiles + 2,
      totalVariants: statsBefore.totalVariants + 6,
      totalSizeBytes: statsBefore.totalSizeBytes + storedBytes(first) + storedBytes(second),
      totalSizeGb: expect.any(Number),
    });
    expect(stats.totalSizeGb).toBeCloseTo(stats.totalSizeBytes / 1024 ** 3, 6);
    expect(errorCodes(await send('MediaStorageStats', {}, merchantToken))).toEqual(['FORBIDDEN']);

    const storageFeature = async () =>
      (await ok('MerchantFeatures', { merchantId: merchant.id, platformId: platform.id }, merchantToken)).merchant.subscription.features.find(
        (f: { code: string }) => f.code === 'max_storage_mb',
      );
    const used = Math.ceil((storedBytes(first) + storedBytes(second)) / MiB);
    expect(used).toBeGreaterThan(0);
    expect(await storageFeature()).toMatchObject({ limit: 1024, current: used, remaining: 1024 - used, unit: 'MB', scope: 'MERCHANT' });

    const paths = first.body.variants.map((v: any) => join(root, v.url.replace('https://media.example.com/media/files/', '')));
    expect(await ok('DeleteMedia', { id: first.body.id }, storeToken)).toEqual({ deleteMedia: true });
    for (const path of paths) await expect(stat(path)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(errorCodes(await send('DeleteMedia', { id: first.body.id }, storeToken))).toEqual(['NOT_FOUND']);
    expect((await storageFeature()).current).toBe(Math.ceil(storedBytes(second) / MiB));
    const after = (await ok('StoreMedia', { storeId: store.id }, merchantToken)).store.media;
    expect(after.edges.map((e: any) => e.node.id)).toEqual([second.body.id]);
    expect((await ok('MediaStorageStats', {})).mediaStorageStats.totalFiles).toBe(statsBefore.totalFiles + 1);

    // another merchant sees none of it
    const other = await tokenFor({ role: 'merchant', merchantId: randomUUID() });
    expect(errorCodes(await send('StoreMedia', { storeId: store.id }, other))).toContain('FORBIDDEN');
    expect(errorCodes(await send('DeleteMedia', { id: second.body.id }, other))).toEqual(['FORBIDDEN']);
  });
});
