import { randomUUID } from 'node:crypto';
import { eventually as readUntil, postGraphQL, tokenFor, waitForLockWaiters, type GraphQLResponse } from '@tiergraph/testkit';
import { Client } from 'pg';
import { contractCaller, contractOperation, startTestGraph, type TestGraph } from './graph';

/**
 * The gateway's response cache (GATEWAY_RESPONSE_CACHE=on) over the real graph: tags from every subgraph, eviction
 * from mutation answers and from NOTIFY (counter triggers, billing's writers) on the gateway's LISTEN connection.
 */
let graph: TestGraph;
let admin: string;
const { send, ok } = contractCaller(() => graph, () => admin);

const PRODUCTS = 'max_products';
const ORDERS = 'max_orders_per_month';

interface Tenant {
  platformId: string;
  merchantId: string;
  storeId: string;
  merchantToken: string;
}

async function tenant(): Promise<Tenant> {
  const n = randomUUID().slice(0, 8);
  const platform = (await ok('CreatePlatform', { input: { code: `rc-${n}`, name: 'P' } })).createPlatform;
  const m = (await ok('CreateMerchant', { input: { name: `Cache ${n}`, email: `rc-${n}@example.com` } })).createMerchant;
  const store = (await ok('CreateStore', { input: { merchantId: m.id, platformId: platform.id, code: 'one', name: 'One' } })).createStore;
  await ok('UpdateMerchantSubscription', { merchantId: m.id, platformId: platform.id, input: { tierCode: 'professional' } });
  return { platformId: platform.id, merchantId: m.id, storeId: store.id, merchantToken: await tokenFor({ role: 'merchant', merchantId: m.id }) };
}

const features = (t: Tenant, token = t.merchantToken) => send('MerchantFeatures', { merchantId: t.merchantId, platformId: t.platformId }, token);
const cacheOf = (r: GraphQLResponse) => r.headers.get('x-tiergraph-cache');
const feature = (r: GraphQLResponse, code: string) => r.data!.merchant.subscription.features.find((f: { code: string }) => f.code === code);

/**
 * Reads MerchantFeatures until it is a hit (so the write after it has a cached entry to evict), at most 5 times: a
 * read during which the NOTIFY of the setup's last write arrived is rightly not stored (the race rule).
 */
async function cached(t: Tenant, token = t.merchantToken): Promise<GraphQLResponse> {
  let r = await features(t, token);
  for (let i = 0; i < 5 && cacheOf(r) !== 'hit'; i++) r = await features(t, token);
  expect(cacheOf(r)).toBe('hit');
  return r;
}

/** Polls (bounded) until `check` passes on a fresh MerchantFeatures; answers the passing response. */
function eventually(t: Tenant, check: (r: GraphQLResponse) => boolean, timeoutMs = 5000): Promise<GraphQLResponse> {
  return readUntil(() => features(t), check, timeoutMs);
}

async function product(t: Tenant, token = t.merchantToken): Promise<string> {
  return (await ok('CreateProduct', { input: { storeId: t.storeId, sku: randomUUID().slice(0, 12), name: 'P', priceCents: 100 } }, token)).createProduct.id;
}

const metric = async (name: string) => {
  const text = await (await fetch(`${graph.origin}/metrics`)).text();
  return text.split('\n').filter((l) => l.startsWith(name)).join('\n');
};

/** Holds billing's overrides table (MerchantFeatures' last read) until the returned release. */
async function holdFeatures(): Promise<{ holder: Client; release: () => Promise<void> }> {
  const holder = new Client({ connectionString: graph.db.url });
  await holder.connect();
  await holder.query('BEGIN');
  await holder.query('LOCK TABLE billing.merchant_feature_overrides IN ACCESS EXCLUSIVE MODE');
  return { holder, release: async () => (await holder.query('COMMIT'), await holder.end()) };
}

/** A product written straight to catalog's table (no gateway, no subgraph code), once the gateway has its NOTIFY. */
async function productBehindTheGateway(t: Tenant, sku: string): Promise<void> {
  const notified = await metric('tiergraph_gateway_response_cache_invalidations_total{source="notify"}');
  await graph.subgraphs.catalog.dataSource.query(
    `INSERT INTO catalog.products (store_id, merchant_id, platform_id, sku, name, price_cents, currency) VALUES ($1, $2, $3, $4, 'P', 1, 'EUR')`,
    [t.storeId, t.merchantId, t.platformId, sku],
  );
  await readUntil(() => metric('tiergraph_gateway_response_cache_invalidations_total{source="notify"}'), (now) => now !== notified, 5000);
}

beforeAll(async () => {
  graph = await startTestGraph({}, (db) => ({ GATEWAY_RESPONSE_CACHE: 'on', DATABASE_URL: db.url }));
  admin = await tokenFor({ role: 'admin' });
});

afterAll(async () => {
  await graph?.stop();
});

describe('the gateway response cache', () => {
  it('answers a repeated MerchantFeatures from the cache, the same answer, and counts hits and misses on /metrics', async () => {
    const t = await tenant();
    const first = await features(t);
    expect(first.errors).toBeUndefined();
    expect(cacheOf(first)).toBe('miss');
    const second = await cached(t);
    expect(second.data).toEqual(first.data);
    expect(await metric('tiergraph_gateway_response_cache_lookups_total{result="hit"}')).toMatch(/ [1-9]\d*$/);
    expect(graph.gateway.responseCache!.size).toBeGreaterThan(0);
  });

  it('never answers one caller with another caller\'s entry', async () => {
    const t = await tenant();
    const other = await tenant();
    await cached(t);
    // another merchant asking for t's features is refused, not served t's cached answer
    const foreign = await features(t, other.merchantToken);
    expect(cacheOf(foreign)).toBe('miss');
    expect(foreign.errors?.map((e) => e.extensions?.code)).toContain('FORBIDDEN');
    // the admin gets its own entry: a miss first
    expect(cacheOf(await features(t, admin))).toBe('miss');
    await cached(t, admin);
  });

  it('CreateProduct, PlaceOrder, SetMerchantFeatureOverrides and UpdateMerchantSubscription through the gateway show in the very next read', async () => {
    const t = await tenant();
    const before = await cached(t);
    const products = feature(before, PRODUCTS).current;

    // evicted from the mutation's own answer (extensions.tags.changed), not only by the NOTIFY that follows
    const fromResponses = await metric('tiergraph_gateway_response_cache_invalidations_total{source="response"}');
    const productId = await product(t);
    expect(await metric('tiergraph_gateway_response_cache_invalidations_total{source="response"}')).not.toBe(fromResponses);
    const afterProduct = await features(t);
    expect(cacheOf(afterProduct)).toBe('miss');
    expect(feature(afterProduct, PRODUCTS).current).toBe(products + 1);

    const orders = feature(await cached(t), ORDERS).current;
    await ok('PlaceOrder', { input: { storeId: t.storeId, items: [{ productId, quantity: 1 }] } }, t.merchantToken);
    expect(feature(await features(t), ORDERS).current).toBe(orders + 1);

    await cached(t);
    await ok('SetMerchantFeatureOverrides', { merchantId: t.merchantId, platformId: t.platformId, overrides: [{ featureCode: PRODUCTS, limitValue: 7, isEnabled: true }] });
    expect(feature(await features(t), PRODUCTS)).toMatchObject({ limit: 7, isOverride: true });

    await cached(t);
    await ok('UpdateMerchantSubscription', { merchantId: t.merchantId, platformId: t.platformId, input: { tierCode: 'enterprise' } });
    expect((await features(t)).data!.merchant.subscription.tier.code).toBe('enterprise');
  });

  it('a create refused at its limit (its transaction rolled back) evicts nothing: no clear of everything, every entry still answers', async () => {
    const t = await tenant();
    const other = await tenant();
    await ok('SetMerchantFeatureOverrides', { merchantId: t.merchantId, platformId: t.platformId, overrides: [{ featureCode: PRODUCTS, limitValue: 1, isEnabled: true }] });
    await product(t); // at the limit now
    const otherBefore = await cached(other);
    const before = await cached(t);
    const clears = await metric('tiergraph_gateway_response_cache_clears_total');
    const refused = await send('CreateProduct', { input: { storeId: t.storeId, sku: randomUUID().slice(0, 12), name: 'P', priceCents: 100 } }, t.merchantToken);
    expect(refused.errors?.map((e) => e.extensions?.code)).toEqual(['FEATURE_LIMIT_REACHED']);
    // the subgraph said `changed: []`: the gateway did not read the refusal as "may have changed anything"
    expect(await metric('tiergraph_gateway_response_cache_clears_total')).toBe(clears);
    const otherAfter = await features(other);
    expect(cacheOf(otherAfter)).toBe('hit');
    expect(otherAfter.data).toEqual(otherBefore.data);
    const after = await features(t);
    expect(cacheOf(after)).toBe('hit');
    expect(after.data).toEqual(before.data);
    // and nothing was written: an uncached read (the admin's first) gives the same count
    const fresh = await features(t, admin);
    expect(cacheOf(fresh)).toBe('miss');
    expect(feature(fresh, PRODUCTS)).toMatchObject({ current: 1, limit: 1 });
  });

  it('a write that bypasses the gateway (to catalog directly, by SQL, to billing directly) evicts by NOTIFY', async () => {
    const t = await tenant();
    const products = feature(await cached(t), PRODUCTS).current;
    // straight to catalog's subgraph, signed as the gateway signs: no gateway sees the answer
    const direct = await postGraphQL(
      graph.subgraphs.catalog.url,
      { query: contractOperation('CreateProduct'), operationName: 'CreateProduct', variables: { input: { storeId: t.storeId, sku: 'direct', name: 'D', priceCents: 1 } } },
      { token: t.merchantToken },
    );
    expect(direct.errors).toBeUndefined();
    await eventually(t, (r) => feature(r, PRODUCTS).current === products + 1);

    // SQL no service sees: the counter's trigger NOTIFYs
    await cached(t);
    await productBehindTheGateway(t, 'sql');
    await eventually(t, (r) => feature(r, PRODUCTS).current === products + 2);

    // billing directly (an admin tool, a webhook's path): the entitlements NOTIFY
    await cached(t);
    const override = await postGraphQL(
      graph.subgraphs.billing.url,
      {
        query: contractOperation('SetMerchantFeatureOverrides'),
        operationName: 'SetMerchantFeatureOverrides',
        variables: { merchantId: t.merchantId, platformId: t.platformId, overrides: [{ featureCode: PRODUCTS, limitValue: 3, isEnabled: true }] },
      },
      { token: admin },
    );
    expect(override.errors).toBeUndefined();
    await eventually(t, (r) => feature(r, PRODUCTS).limit === 3);

    // a tier renamed at billing directly: the `tiers` tag by NOTIFY (and `*` from the tier tables' trigger)
    await ok('UpdateMerchantSubscription', { merchantId: t.merchantId, platformId: t.platformId, input: { tierCode: 'business' } });
    await cached(t);
    const rename = (name: string) =>
      postGraphQL(
        graph.subgraphs.billing.url,
        { query: contractOperation('UpdateSubscriptionTier'), operationName: 'UpdateSubscriptionTier', variables: { code: 'business', input: { name } } },
        { token: admin },
      );
    expect((await rename('Business (renamed)')).errors).toBeUndefined();
    await eventually(t, (r) => r.data!.merchant.subscription.tier.name === 'Business (renamed)');
    // the tier tables' trigger also NOTIFYs `*` on the entitlements channel (billing's process tier catalog): the
    // gateway clears everything, and again a second later; wait for that second clear, which would refuse a later
    // test's read in flight
    const sweep = 'tiergraph_gateway_response_cache_clears_total{reason="second sweep after *"}';
    const swept = await metric(sweep);
    expect((await rename('Business')).errors).toBeUndefined();
    await readUntil(() => metric(sweep), (now) => now !== swept, 5000);
  });

  it('leaves no stale entry after concurrent writes and reads', async () => {
    const t = await tenant();
    await cached(t);
    const reads = async () => {
      for (let i = 0; i < 15; i++) await features(t);
    };
    const writes = async () => {
      for (let i = 0; i < 5; i++) await product(t);
    };
    await Promise.all([reads(), reads(), reads(), writes(), writes()]);
    const [{ n }] = await graph.subgraphs.catalog.dataSource.query(
      `SELECT count(*)::int AS n FROM catalog.products WHERE merchant_id = $1 AND platform_id = $2 AND deleted_at IS NULL`,
      [t.merchantId, t.platformId],
    );
    expect(n).toBe(10);
    // right after: the next read, cached or not, shows all ten (a read that raced a write was not stored)
    expect(feature(await features(t), PRODUCTS).current).toBe(10);
    expect(feature(await features(t), PRODUCTS).current).toBe(10);
  });

  it('does not store a read that a write overtook: the write committed (and was notified) while the read was in flight', async () => {
    const t = await tenant();
    const products = feature(await cached(t), PRODUCTS).current;
    await ok('SetMerchantFeatureOverrides', { merchantId: t.merchantId, platformId: t.platformId, overrides: [{ featureCode: PRODUCTS, limitValue: 100, isEnabled: true }] }); // evicts
    // hold billing's last fetch (features reads the overrides) after catalog has counted
    const { holder, release } = await holdFeatures();
    let inFlight: Promise<GraphQLResponse>;
    try {
      inFlight = features(t);
      await waitForLockWaiters(holder, 1, 10_000, 'relation');
      // a write straight to the database while the read waits: its NOTIFY evicts, and must also keep the read out
      await productBehindTheGateway(t, 'race');
    } finally {
      await release();
    }
    expect(feature(await inFlight!, PRODUCTS).current).toBe(products); // counted before the write
    const next = await features(t);
    expect(cacheOf(next)).toBe('miss');
    expect(feature(next, PRODUCTS).current).toBe(products + 1);
  });

  it('a miss of a key another request is fetching waits for it and answers its stored entry (one fetch for both)', async () => {
    const t = await tenant();
    await features(t); // so the next read is not raced by the setup's NOTIFYs
    await ok('SetMerchantFeatureOverrides', { merchantId: t.merchantId, platformId: t.platformId, overrides: [{ featureCode: PRODUCTS, limitValue: 50, isEnabled: true }] }); // evicts
    await new Promise((resolve) => setTimeout(resolve, 50)); // its NOTIFY too
    const { holder, release } = await holdFeatures();
    let first: Promise<GraphQLResponse>;
    let second: Promise<GraphQLResponse>;
    try {
      first = features(t);
      await waitForLockWaiters(holder, 1, 10_000, 'relation');
      second = features(t);
      // the second does not fetch: no second waiter on the lock while the first is held
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect((await holder.query(`SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted AND locktype = 'relation'`)).rows[0].n).toBe(1);
    } finally {
      await release();
    }
    const [a, b] = await Promise.all([first!, second!]);
    expect(cacheOf(a)).toBe('miss');
    expect(cacheOf(b)).toBe('hit');
    expect(b.data).toEqual(a.data);
    expect(await metric('tiergraph_gateway_response_cache_coalesced_total')).toMatch(/ [1-9]\d*$/);
  });

  it('a miss that waited for a fetch begun before a write it saw answered does not get that fetch\'s answer', async () => {
    const t = await tenant();
    const products = feature(await cached(t), PRODUCTS).current;
    await ok('SetMerchantFeatureOverrides', { merchantId: t.merchantId, platformId: t.platformId, overrides: [{ featureCode: PRODUCTS, limitValue: 50, isEnabled: true }] }); // evicts
    await new Promise((resolve) => setTimeout(resolve, 50));
    const { holder, release } = await holdFeatures();
    let older: Promise<GraphQLResponse>;
    let newer: Promise<GraphQLResponse>;
    try {
      older = features(t); // counts products now, then waits on the lock
      await waitForLockWaiters(holder, 1, 10_000, 'relation');
      await productBehindTheGateway(t, 'coalesced');
      newer = features(t); // begun after the gateway learnt of the write: must show it
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      await release();
    }
    expect(feature(await older!, PRODUCTS).current).toBe(products);
    const fresh = await newer!;
    expect(cacheOf(fresh)).toBe('miss');
    expect(feature(fresh, PRODUCTS).current).toBe(products + 1);
  });

  it('does not cache an operation a subgraph did not tag, nor an answer with errors', async () => {
    const t = await tenant();
    // tenancy tags the merchant row, not its stores: the whole answer is uncacheable
    const query = `query MerchantStores($id: ID!) { merchant(id: $id) { id name stores { id } } }`;
    const untagged = () => postGraphQL(graph.gateway.url, { query, operationName: 'MerchantStores', variables: { id: t.merchantId } }, { token: t.merchantToken });
    expect((await untagged()).errors).toBeUndefined();
    expect(cacheOf(await untagged())).toBe('miss');
    expect(await metric('tiergraph_gateway_response_cache_uncacheable_total{reason="untagged"}')).toMatch(/ [1-9]\d*$/);

    // an answer with errors (another merchant's features) is never stored, whatever its fetches said
    const errorsBefore = await metric('tiergraph_gateway_response_cache_uncacheable_total{reason="errors"}');
    const other = await tenant();
    const denied = () => features(other, t.merchantToken);
    const refused = await denied();
    expect(refused.errors?.map((e) => e.extensions?.code)).toContain('FORBIDDEN');
    expect(cacheOf(await denied())).toBe('miss');
    expect(await metric('tiergraph_gateway_response_cache_uncacheable_total{reason="errors"}')).not.toBe(errorsBefore);
  });

  it('clears everything and says so when the LISTEN connection drops, and caches again once it is back', async () => {
    const t = await tenant();
    await cached(t);
    const cache = graph.gateway.responseCache!;
    expect(cache.size).toBeGreaterThan(0);
    await graph.subgraphs.billing.dataSource.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'tiergraph-gateway-response-cache' AND datname = current_database()`,
    );
    const deadline = Date.now() + 5000;
    while (cache.isLive() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(cache.isLive()).toBe(false);
    expect(cache.size).toBe(0);
    // back (the listener reconnects after 500 ms): a miss, then a hit again
    while (!cache.isLive() && Date.now() < deadline + 5000) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(cache.isLive()).toBe(true);
    expect(cacheOf(await features(t))).toBe('miss');
    await cached(t);
  });
});
