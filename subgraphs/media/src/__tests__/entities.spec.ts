import { randomUUID } from 'node:crypto';
import { repairUsageCounter, type RunningSubgraph } from '@tiergraph/runtime';
import { tenancySubgraph } from '@tiergraph/tenancy';
import { createTenants, createTestDatabase, errorCodes, postGraphQL, startTestSubgraphs, tokenFor, type TestDatabase, type Tenants, platformMetricsOf, PLATFORM_METRICS_ACCESS } from '@tiergraph/testkit';
import { mediaSubgraph, STORED_BYTES } from '../index';

const ENTITIES = `query($r: [_Any!]!) {
  _entities(representations: $r) {
    ... on MediaFile { id filename mimeType sizeBytes width height createdAt store { id } }
  }
}`;

const ref = (id: string) => ({ __typename: 'MediaFile', id });

describe('media: the MediaFile entity', () => {
  let db: TestDatabase;
  let running: RunningSubgraph;
  let stopTenancy: (() => Promise<void>) | undefined;
  // real tenants: a store token is accepted only for a store of its merchant (tenancy says which)
  let tenants: Tenants;
  let platformId: string;
  let merchantA: string;
  let merchantB: string;
  let storeA: string;
  let storeB: string;
  let photo: string;
  let video: string;
  let other: string;

  async function insertFile(values: {
    merchantId: string;
    storeId: string;
    filename: string;
    mimeType: string;
    sizeBytes: number;
    width?: number;
    height?: number;
  }): Promise<string> {
    const [row]: Array<{ id: string }> = await running.dataSource.query(
      `INSERT INTO media.media_files (merchant_id, store_id, platform_id, filename, mime_type, size_bytes, width, height, storage_key, stored_bytes)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $6) RETURNING id`,
      [values.merchantId, values.storeId, platformId, values.filename, values.mimeType, values.sizeBytes, values.width ?? null, values.height ?? null, `${values.storeId}/${randomUUID()}`],
    );
    return row.id;
  }

  const resolve = async (ids: string[], token?: string) => postGraphQL(running.url, { query: ENTITIES, variables: { r: ids.map(ref) } }, { token });

  beforeAll(async () => {
    db = await createTestDatabase();
    let tenancy: RunningSubgraph;
    ({ tenancy, media: running } = await startTestSubgraphs({ tenancy: tenancySubgraph, media: mediaSubgraph }, db.url));
    stopTenancy = () => tenancy.stop();
    tenants = await createTenants(tenancy.url);
    ({ platformId, m1: merchantA, m2: merchantB, s1: storeA, s2: storeB } = tenants);
    photo = await insertFile({ merchantId: merchantA, storeId: storeA, filename: 'hero.png', mimeType: 'image/png', sizeBytes: 204800, width: 1600, height: 900 });
    // beyond 32 bits: the bigint must come back as the exact number
    video = await insertFile({ merchantId: merchantA, storeId: storeA, filename: 'intro.mp4', mimeType: 'video/mp4', sizeBytes: 5_000_000_123 });
    other = await insertFile({ merchantId: merchantB, storeId: storeB, filename: 'logo.svg', mimeType: 'image/svg+xml', sizeBytes: 0 });
  });

  afterAll(async () => {
    await running?.stop();
    await stopTenancy?.();
    await db?.drop();
  });

  it('lets an admin resolve files in the order asked, sizes as numbers', async () => {
    const res = await resolve([video, photo], await tokenFor({ role: 'admin' }));
    expect(res.errors).toBeUndefined();
    expect(res.data?._entities).toEqual([
      { id: video, filename: 'intro.mp4', mimeType: 'video/mp4', sizeBytes: 5_000_000_123, width: null, height: null, createdAt: expect.any(String), store: { id: storeA } },
      { id: photo, filename: 'hero.png', mimeType: 'image/png', sizeBytes: 204800, width: 1600, height: 900, createdAt: expect.any(String), store: { id: storeA } },
    ]);
  });

  it('lets the owning merchant and its store user resolve their files', async () => {
    for (const token of [await tokenFor({ role: 'merchant', merchantId: merchantA }), tenants.tokens.store1]) {
      const res = await resolve([photo, video], token);
      expect(res.errors).toBeUndefined();
      expect(res.data?._entities.map((f: { id: string }) => f.id)).toEqual([photo, video]);
    }
  });

  it('refuses another merchant with FORBIDDEN and no data, while resolving its own', async () => {
    const res = await resolve([photo, other], await tokenFor({ role: 'merchant', merchantId: merchantB }));
    expect(errorCodes(res)).toEqual(['FORBIDDEN']);
    expect(res.errors?.[0].path).toEqual(['_entities', 0]);
    expect(res.data?._entities[0]).toBeNull();
    expect(res.data?._entities[1]).toMatchObject({ id: other, sizeBytes: 0 });
  });

  it('refuses a store user of another store of the same merchant', async () => {
    const res = await resolve([photo], tenants.tokens.store1b);
    expect(errorCodes(res)).toEqual(['FORBIDDEN']);
    expect(res.data?._entities).toEqual([null]);
  });

  it('answers NOT_FOUND for an unknown uuid and for an id that is no uuid', async () => {
    const res = await resolve([randomUUID(), 'x'], await tokenFor({ role: 'admin' }));
    expect(errorCodes(res)).toEqual(['NOT_FOUND', 'NOT_FOUND']);
    expect(res.data?._entities).toEqual([null, null]);
  });

  it('contributes its files and stored bytes to PlatformMetrics, for admins and services only', async () => {
    const { access, figures } = await platformMetricsOf(running.url, 'mediaFileCount mediaVariantCount mediaStoredBytes', { merchant: tenants.tokens.merchant1, store: tenants.tokens.store1 });
    expect(access).toEqual(PLATFORM_METRICS_ACCESS);
    // 204,800 + 5,000,000,123 + 0 bytes, exact beyond 32 bits
    expect(figures).toEqual({ id: 'platform', mediaFileCount: 3, mediaVariantCount: 0, mediaStoredBytes: 5_000_204_923 });
  });

  it('takes the stored bytes of PlatformMetrics from the counter rows, not a sum over the files', async () => {
    // a counter that says 1,000 bytes more is read as 1,000 bytes more (a sum over the files would not be)
    await running.dataSource.query(`UPDATE media.stored_bytes_counts SET n = n + 1000 WHERE merchant_id = $1`, [merchantA]);
    try {
      const { figures } = await platformMetricsOf(running.url, 'mediaFileCount mediaStoredBytes', { merchant: tenants.tokens.merchant1, store: tenants.tokens.store1 });
      expect(figures).toEqual({ id: 'platform', mediaFileCount: 3, mediaStoredBytes: 5_000_205_923 });
    } finally {
      await repairUsageCounter(running.dataSource, STORED_BYTES);
    }
    expect((await platformMetricsOf(running.url, 'mediaStoredBytes', { merchant: tenants.tokens.merchant1, store: tenants.tokens.store1 })).figures).toEqual({ id: 'platform', mediaStoredBytes: 5_000_204_923 });
  });

  it('answers UNAUTHENTICATED (401) without a token', async () => {
    const res = await resolve([photo]);
    expect(res.status).toBe(401);
    expect(errorCodes(res)).toEqual(['UNAUTHENTICATED']);
  });

  it('refuses a negative size', async () => {
    await expect(insertFile({ merchantId: merchantA, storeId: storeA, filename: 'x', mimeType: 'text/plain', sizeBytes: -1 })).rejects.toMatchObject({
      constraint: 'media_files_size_bytes_check',
    });
  });
});
