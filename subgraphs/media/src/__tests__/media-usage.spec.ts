import { randomUUID } from 'node:crypto';
import { billingSubgraph } from '@tiergraph/billing';
import type { RunningSubgraph } from '@tiergraph/runtime';
import { tenancySubgraph } from '@tiergraph/tenancy';
import { createTestDatabase, errorCodes, postGraphQL, startTestSubgraphs, tokenFor, type GraphQLResponse, type TestDatabase } from '@tiergraph/testkit';
import { mediaSubgraph } from '../index';
import { createWorld, expectData, recordSqlStatements, setupOps, type World } from '@tiergraph/testkit';

const MiB = 1024 * 1024;

const ops = {
  subscriptionUsage: `query($r: [_Any!]!) { _entities(representations: $r) { ... on MerchantSubscription { merchantId mediaUsage { code current } } } }`,
  storeUsage: `query($r: [_Any!]!) { _entities(representations: $r) { ... on Store { id mediaUsage { code current } } } }`,
};

let db: TestDatabase;
let running: Record<'billing' | 'tenancy' | 'media', RunningSubgraph>;

beforeAll(async () => {
  db = await createTestDatabase();
  running = await startTestSubgraphs({ billing: billingSubgraph, tenancy: tenancySubgraph, media: mediaSubgraph }, db.url);
});

afterAll(async () => {
  await Promise.all(Object.values(running ?? {}).map((s) => s.stop()));
  await db?.drop();
});

function media(query: string, variables: Record<string, unknown>, token: string): Promise<GraphQLResponse> {
  return postGraphQL(running.media.url, { query, variables }, { token });
}

async function insertFile(merchantId: string, storeId: string, platformId: string, sizeBytes: number): Promise<void> {
  await running.media.dataSource.query(
    `INSERT INTO media.media_files (merchant_id, store_id, platform_id, filename, mime_type, size_bytes, storage_key, stored_bytes)
     VALUES ($1, $2, $3, 'f.png', 'image/png', $4, $5, $4)`,
    [merchantId, storeId, platformId, sizeBytes, `${storeId}/${randomUUID()}`],
  );
}

const subscriptionRef = (w: World, merchantId: string) => ({ __typename: 'MerchantSubscription', merchantId, platformId: w.platformId });

describe('media usage: max_storage_mb', () => {
  it('counts the merchant’s files on the platform in MiB, rounded up, from MerchantSubscription and from Store', async () => {
    const w = await createWorld({ tenancy: running.tenancy.url, billing: running.billing.url });
    // m1: 1 MiB + 1 byte across two stores → 2; m2: exactly 3 MiB → 3; m3: nothing → 0
    await insertFile(w.m1, w.s1, w.platformId, MiB);
    await insertFile(w.m1, w.s1b, w.platformId, 1);
    await insertFile(w.m2, w.s2, w.platformId, 2 * MiB);
    await insertFile(w.m2, w.s2, w.platformId, MiB);
    await insertFile(w.m2, w.s2, w.platformId, 0);
    // the same merchant on another platform is counted apart; sizes beyond 32 bits sum exactly
    const otherPlatform = randomUUID();
    await insertFile(w.m1, randomUUID(), otherPlatform, 5_000_000_123);

    const bySubscription = await expectData(media(ops.subscriptionUsage, { r: [w.m1, w.m2, w.m3].map((m) => subscriptionRef(w, m)) }, w.tokens.service));
    expect(bySubscription._entities).toEqual([
      { merchantId: w.m1, mediaUsage: [{ code: 'max_storage_mb', current: 2 }] },
      { merchantId: w.m2, mediaUsage: [{ code: 'max_storage_mb', current: 3 }] },
      { merchantId: w.m3, mediaUsage: [{ code: 'max_storage_mb', current: 0 }] },
    ]);

    const byStore = await expectData(
      media(ops.storeUsage, { r: [{ __typename: 'Store', id: w.s1, merchantId: w.m1, platformId: w.platformId }] }, w.tokens.store1),
    );
    expect(byStore._entities).toEqual([{ id: w.s1, mediaUsage: [{ code: 'max_storage_mb', current: 2 }] }]);

    const elsewhere = await expectData(
      media(ops.subscriptionUsage, { r: [{ __typename: 'MerchantSubscription', merchantId: w.m1, platformId: otherPlatform }] }, w.tokens.admin),
    );
    expect(elsewhere._entities[0].mediaUsage).toEqual([{ code: 'max_storage_mb', current: Math.ceil(5_000_000_123 / MiB) }]);
  });

  it('shows a merchant’s usage only to admins, services, the merchant itself and its stores’ users', async () => {
    const w = await createWorld({ tenancy: running.tenancy.url, billing: running.billing.url });
    expect((await media(ops.subscriptionUsage, { r: [subscriptionRef(w, w.m1)] }, w.tokens.merchant1)).errors).toBeUndefined();
    const foreign = await media(ops.subscriptionUsage, { r: [subscriptionRef(w, w.m1), subscriptionRef(w, w.m2)] }, w.tokens.merchant2);
    expect(errorCodes(foreign)).toEqual(['FORBIDDEN']);
    expect(foreign.data?._entities[0]).toBeNull();
    expect(foreign.data?._entities[1]).toEqual({ merchantId: w.m2, mediaUsage: [{ code: 'max_storage_mb', current: 0 }] });
    const otherStore = await media(ops.storeUsage, { r: [{ __typename: 'Store', id: w.s1, merchantId: w.m1, platformId: w.platformId }] }, w.tokens.store1b);
    expect(errorCodes(otherStore)).toEqual(['FORBIDDEN']);
  });

  it('answers 50 distinct MerchantSubscription representations with one SELECT', async () => {
    const pairs = Array.from({ length: 50 }, () => ({ merchantId: randomUUID(), platformId: randomUUID() }));
    for (const [i, pair] of pairs.entries()) {
      if (i % 2) await insertFile(pair.merchantId, randomUUID(), pair.platformId, i * MiB - 1);
    }
    const admin = await tokenFor({ role: 'admin' });
    // every statement at the pg client: the loaders' prepared statements go straight to the pool
    const { statements, stop: stopRecording } = recordSqlStatements();
    let data;
    try {
      data = await expectData(media(ops.subscriptionUsage, { r: pairs.map((p) => ({ __typename: 'MerchantSubscription', ...p })) }, admin));
    } finally {
      stopRecording();
    }
    expect(data._entities.map((e: { mediaUsage: Array<{ current: number }> }) => e.mediaUsage[0].current)).toEqual(pairs.map((_, i) => (i % 2 ? i : 0)));
    const mediaStatements = statements.filter((sql) => /\bmedia\./.test(sql));
    expect(mediaStatements).toHaveLength(1);
    expect(mediaStatements[0]).toMatch(/^\s*SELECT[\s\S]*GROUP BY/);
  });

  it('registers max_storage_mb with billing’s feature catalog', async () => {
    const data = await expectData(postGraphQL(running.billing.url, { query: setupOps.featureCatalog }, { token: await tokenFor({ role: 'admin' }) }));
    const features = data.featureCatalog.flatMap((c: { features: Array<{ code: string }> }) => c.features);
    expect(features.find((f: { code: string }) => f.code === 'max_storage_mb')).toEqual({
      code: 'max_storage_mb',
      name: 'Media storage',
      description: expect.stringContaining('megabytes'),
      featureType: 'QUANTITATIVE',
      scope: 'MERCHANT',
      unit: 'MB',
    });
  });
});
