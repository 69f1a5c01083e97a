import { randomUUID } from 'node:crypto';
import { billingSubgraph } from '@tiergraph/billing';
import type { RunningSubgraph } from '@tiergraph/runtime';
import { tenancySubgraph } from '@tiergraph/tenancy';
import { createTestDatabase, errorCodes, freePort, postGraphQL, startCountingProxy, startTestSubgraph, startTestSubgraphs, TEST_SUBGRAPH_HMAC_SECRET, tokenFor, withInsertsHeld, type GraphQLResponse, type TestDatabase } from '@tiergraph/testkit';
import { catalogSubgraph } from '../index';
import { createWorld, expectData, recordSqlStatements, overrideLimit, setupOps, subscribe, type World } from '@tiergraph/testkit';

const ops = {
  createProduct: `mutation($input: CreateProductInput!) { createProduct(input: $input) { id sku name priceCents currency isActive store { id } } }`,
  deleteProduct: `mutation($id: ID!) { deleteProduct(id: $id) }`,
  storeProducts: `query($r: [_Any!]!, $first: Int, $after: String) { _entities(representations: $r) { ... on Store {
    id products(first: $first, after: $after) {
      totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id sku name priceCents } }
    } } } }`,
  product: `query($r: [_Any!]!) { _entities(representations: $r) { ... on Product { id sku isActive deletedAt } } }`,
  subscriptionUsage: `query($r: [_Any!]!) { _entities(representations: $r) { ... on MerchantSubscription { merchantId platformId catalogUsage { code current } } } }`,
  storeUsage: `query($r: [_Any!]!) { _entities(representations: $r) { ... on Store { id catalogUsage { code current } } } }`,
};

let db: TestDatabase;
let running: Record<'billing' | 'tenancy' | 'catalog', RunningSubgraph>;

beforeAll(async () => {
  db = await createTestDatabase();
  running = await startTestSubgraphs({ billing: billingSubgraph, tenancy: tenancySubgraph, catalog: catalogSubgraph }, db.url);
});

afterAll(async () => {
  await Promise.all(Object.values(running ?? {}).map((s) => s.stop()));
  await db?.drop();
});

const urls = () => ({ tenancy: running.tenancy.url, billing: running.billing.url });

function catalog(query: string, variables: Record<string, unknown>, token: string): Promise<GraphQLResponse> {
  return postGraphQL(running.catalog.url, { query, variables }, { token });
}

function createProduct(input: Record<string, unknown>, token: string): Promise<GraphQLResponse> {
  return catalog(ops.createProduct, { input }, token);
}

let skuCounter = 0;
async function newProduct(w: World, storeId: string, token = w.tokens.admin, extra: Record<string, unknown> = {}) {
  const data = await expectData(createProduct({ storeId, sku: `SKU-${++skuCounter}`, name: `Product ${skuCounter}`, priceCents: 100 * skuCounter, ...extra }, token));
  return data.createProduct as { id: string; sku: string; name: string; priceCents: number; currency: string; isActive: boolean; store: { id: string } };
}

async function rowsOfMerchant(merchantId: string, includeDeleted = true): Promise<number> {
  const [{ n }] = await running.catalog.dataSource.query(
    `SELECT count(*)::int AS n FROM catalog.products WHERE merchant_id = $1 ${includeDeleted ? '' : 'AND deleted_at IS NULL'}`,
    [merchantId],
  );
  return n;
}

function page(w: World, storeId: string, merchantId: string, args: { first?: number; after?: string } = {}, token = w.tokens.admin) {
  return catalog(ops.storeProducts, { r: [{ __typename: 'Store', id: storeId, merchantId }], ...args }, token);
}

describe('createProduct and deleteProduct', () => {
  it('creates a product with trimmed values and EUR by default, copying merchant, store and platform to its row', async () => {
    const w = await createWorld(urls());
    const data = await expectData(createProduct({ storeId: w.s1, sku: '  MUG-1 ', name: ' Mug ', priceCents: 1299 }, w.tokens.store1));
    expect(data.createProduct).toEqual({ id: expect.any(String), sku: 'MUG-1', name: 'Mug', priceCents: 1299, currency: 'EUR', isActive: true, store: { id: w.s1 } });
    const [row] = await running.catalog.dataSource.query(`SELECT merchant_id, store_id, platform_id, currency, deleted_at FROM catalog.products WHERE id = $1`, [
      data.createProduct.id,
    ]);
    expect(row).toEqual({ merchant_id: w.m1, store_id: w.s1, platform_id: w.platformId, currency: 'EUR', deleted_at: null });
    const usd = await newProduct(w, w.s1, w.tokens.merchant1, { currency: 'USD' });
    expect(usd.currency).toBe('USD');
  });

  it('soft-deletes: the product is no longer listed or counted but still resolves by reference, and a second delete is NOT_FOUND', async () => {
    const w = await createWorld(urls());
    const kept = await newProduct(w, w.s1);
    const gone = await newProduct(w, w.s1);
    expect((await expectData(catalog(ops.deleteProduct, { id: gone.id }, w.tokens.store1))).deleteProduct).toBe(true);

    const listed = (await expectData(page(w, w.s1, w.m1)))._entities[0].products;
    expect(listed.totalCount).toBe(1);
    expect(listed.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([kept.id]);
    const usage = await expectData(catalog(ops.subscriptionUsage, { r: [{ __typename: 'MerchantSubscription', merchantId: w.m1, platformId: w.platformId }] }, w.tokens.admin));
    expect(usage._entities[0].catalogUsage).toEqual([{ code: 'max_products', current: 1 }]);
    const byReference = await expectData(catalog(ops.product, { r: [{ __typename: 'Product', id: gone.id }] }, w.tokens.admin));
    expect(byReference._entities[0]).toEqual({ id: gone.id, sku: gone.sku, isActive: false, deletedAt: expect.any(String) });

    expect(errorCodes(await catalog(ops.deleteProduct, { id: gone.id }, w.tokens.admin))).toEqual(['NOT_FOUND']);
    expect(errorCodes(await catalog(ops.deleteProduct, { id: randomUUID() }, w.tokens.admin))).toEqual(['NOT_FOUND']);
    expect(errorCodes(await catalog(ops.deleteProduct, { id: 'nope' }, w.tokens.admin))).toEqual(['NOT_FOUND']);
    // the deleted product's sku is free again in its store
    const again = await newProduct(w, w.s1, w.tokens.admin, { sku: gone.sku });
    expect(again.sku).toBe(gone.sku);
    expect(await rowsOfMerchant(w.m1)).toBe(3);
  });
});

describe('Store.products', () => {
  it('pages through a store’s products oldest first with opaque cursors, counting only its products that are not deleted', async () => {
    const w = await createWorld(urls());
    const created = [];
    for (let i = 0; i < 5; i++) created.push(await newProduct(w, w.s1));
    await newProduct(w, w.s1b); // another store of the same merchant: not listed
    const deleted = await newProduct(w, w.s1);
    await expectData(catalog(ops.deleteProduct, { id: deleted.id }, w.tokens.admin));

    const first = (await expectData(page(w, w.s1, w.m1, { first: 2 }, w.tokens.store1)))._entities[0].products;
    expect(first.totalCount).toBe(5);
    expect(first.pageInfo).toEqual({ hasNextPage: true, hasPreviousPage: false, startCursor: first.edges[0].cursor, endCursor: first.edges[1].cursor });
    const second = (await expectData(page(w, w.s1, w.m1, { first: 2, after: first.pageInfo.endCursor })))._entities[0].products;
    expect(second.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: true });
    const third = (await expectData(page(w, w.s1, w.m1, { first: 2, after: second.pageInfo.endCursor })))._entities[0].products;
    expect(third.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
    const ids = [...first.edges, ...second.edges, ...third.edges].map((e: { node: { id: string } }) => e.node.id);
    expect(ids).toEqual(created.map((p) => p.id));
    expect(first.edges[0].node).toEqual({ id: created[0].id, sku: created[0].sku, name: created[0].name, priceCents: created[0].priceCents });

    // default page size 20 lists all five; a representation naming another merchant lists nothing
    const all = (await expectData(page(w, w.s1, w.m1)))._entities[0].products;
    expect([all.edges.length, all.pageInfo.hasNextPage]).toEqual([5, false]);
    const wrongMerchant = (await expectData(page(w, w.s1, w.m2)))._entities[0].products;
    expect([wrongMerchant.totalCount, wrongMerchant.edges]).toEqual([0, []]);
  });

  it('refuses a page size outside 1..100 and a cursor it did not make (BAD_USER_INPUT naming the argument)', async () => {
    const w = await createWorld(urls());
    for (const first of [0, -1, 101]) {
      const r = await page(w, w.s1, w.m1, { first });
      expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
    }
    for (const after of ['garbage', Buffer.from(`2024-01-01T00:00:00.000000Z|${'x'.repeat(36)}`).toString('base64url')]) {
      const r = await page(w, w.s1, w.m1, { after });
      expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
    }
    const ok = await page(w, w.s1, w.m1, { first: 100 });
    expect(ok.errors).toBeUndefined();
  });

  it('lets whoever may read the store list it, and nobody else', async () => {
    const w = await createWorld(urls());
    await newProduct(w, w.s1);
    const outcome = async (token: string) => {
      const r = await page(w, w.s1, w.m1, {}, token);
      return r.errors ? errorCodes(r)[0] : r.data?._entities[0].products.totalCount;
    };
    const t = w.tokens;
    expect(await Promise.all([t.admin, t.service, t.merchant1, t.store1, t.merchant2, t.store1b, t.store2].map(outcome))).toEqual([
      1,
      1,
      1,
      1,
      'FORBIDDEN',
      'FORBIDDEN',
      'FORBIDDEN',
    ]);
  });
});

describe('Store.products: store ids in any case', () => {
  it('lists the same products for a representation whose ids are in upper case, also for the store’s own user (tenancy stores them in lower case)', async () => {
    const w = await createWorld(urls());
    const product = await newProduct(w, w.s1);
    for (const token of [w.tokens.store1, w.tokens.merchant1, w.tokens.admin]) {
      const listed = (await expectData(page(w, w.s1.toUpperCase(), w.m1.toUpperCase(), {}, token)))._entities[0].products;
      expect([listed.totalCount, listed.edges.map((e: { node: { id: string } }) => e.node.id)]).toEqual([1, [product.id]]);
    }
    expect(errorCodes(await page(w, w.s1.toUpperCase(), w.m1.toUpperCase(), {}, w.tokens.store1b))).toEqual(['FORBIDDEN']);
  });
});

describe('bad input: BAD_USER_INPUT naming the field, and nothing written', () => {
  it.each([
    [{ sku: '' }, 'sku'],
    [{ sku: '   ' }, 'sku'],
    [{ sku: 'S'.repeat(65) }, 'sku'],
    [{ name: '' }, 'name'],
    [{ name: ' \t ' }, 'name'],
    [{ name: 'N'.repeat(201) }, 'name'],
    [{ priceCents: -1 }, 'priceCents'],
    [{ currency: 'eur' }, 'currency'],
    [{ currency: 'EURO' }, 'currency'],
    [{ currency: '' }, 'currency'],
  ])('%p → field %s', async (change, field) => {
    const w = await createWorld(urls());
    const r = await createProduct({ storeId: w.s1, sku: 'OK-1', name: 'Fine', priceCents: 100, ...change }, w.tokens.admin);
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(r.data).toBeNull();
    expect(await rowsOfMerchant(w.m1)).toBe(0);
  });

  it('accepts the edges of the ranges: 64-character sku, 200-character name, price 0', async () => {
    const w = await createWorld(urls());
    const p = await newProduct(w, w.s1, w.tokens.admin, { sku: 'S'.repeat(64), name: 'N'.repeat(200), priceCents: 0 });
    expect([p.sku.length, p.name.length, p.priceCents]).toEqual([64, 200, 0]);
  });

  it('refuses a sku the store already uses (field sku), but not the same sku in another store', async () => {
    const w = await createWorld(urls());
    await newProduct(w, w.s1, w.tokens.admin, { sku: 'DUP' });
    const r = await createProduct({ storeId: w.s1, sku: ' DUP ', name: 'Again', priceCents: 1 }, w.tokens.admin);
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'sku' });
    expect(await rowsOfMerchant(w.m1)).toBe(1);
    await newProduct(w, w.s1b, w.tokens.admin, { sku: 'DUP' });
    expect(await rowsOfMerchant(w.m1)).toBe(2);
  });

  it('answers NOT_FOUND for an unknown store and for a store id that is no uuid', async () => {
    const w = await createWorld(urls());
    for (const storeId of [randomUUID(), 'store-1']) {
      const r = await createProduct({ storeId, sku: 'X', name: 'X', priceCents: 1 }, w.tokens.admin);
      expect(errorCodes(r)).toEqual(['NOT_FOUND']);
    }
    const [{ n }] = await running.catalog.dataSource.query(`SELECT count(*)::int AS n FROM catalog.products WHERE sku = 'X'`);
    expect(n).toBe(0);
  });
});

describe('authorisation', () => {
  it('lets admins, the owning merchant and the store’s users create and delete; refuses other tenants and services', async () => {
    const w = await createWorld(urls());
    const t = w.tokens;
    const roles = { admin: t.admin, merchant1: t.merchant1, store1: t.store1, merchant2: t.merchant2, store1b: t.store1b, store2: t.store2, service: t.service };
    const creates: Record<string, string> = {};
    const deletes: Record<string, string> = {};
    for (const [role, token] of Object.entries(roles)) {
      const r = await createProduct({ storeId: w.s1, sku: `ROLE-${role}`, name: role, priceCents: 1 }, token);
      creates[role] = r.errors ? errorCodes(r)[0] : 'ok';
      const victim = await newProduct(w, w.s1);
      const d = await catalog(ops.deleteProduct, { id: victim.id }, token);
      deletes[role] = d.errors ? errorCodes(d)[0] : 'ok';
    }
    const expected = { admin: 'ok', merchant1: 'ok', store1: 'ok', merchant2: 'FORBIDDEN', store1b: 'FORBIDDEN', store2: 'FORBIDDEN', service: 'FORBIDDEN' };
    expect(creates).toEqual(expected);
    expect(deletes).toEqual(expected);
    const skus: Array<{ sku: string }> = await running.catalog.dataSource.query(`SELECT sku FROM catalog.products WHERE sku LIKE 'ROLE-%' AND merchant_id = $1 ORDER BY sku`, [w.m1]);
    expect(skus.map((s) => s.sku)).toEqual(['ROLE-admin', 'ROLE-merchant1', 'ROLE-store1']);
  });
});

describe('the plan: subscription and max_products', () => {
  it('refuses with SUBSCRIPTION_INACTIVE when the merchant has no subscription, writing nothing', async () => {
    const w = await createWorld(urls());
    const r = await createProduct({ storeId: w.s3, sku: 'NOSUB', name: 'X', priceCents: 1 }, w.tokens.merchant3);
    expect(errorCodes(r)).toEqual(['SUBSCRIPTION_INACTIVE']);
    expect(await rowsOfMerchant(w.m3)).toBe(0);
  });

  it('refuses with SUBSCRIPTION_INACTIVE once the subscription is CANCELLED (the cached plan is invalidated)', async () => {
    const w = await createWorld(urls());
    await newProduct(w, w.s1); // the plan is now cached in catalog
    await subscribe(urls().billing, w.m1, w.platformId, { status: 'CANCELLED' });
    let codes: string[] = [];
    for (let attempt = 0; attempt < 50 && codes[0] !== 'SUBSCRIPTION_INACTIVE'; attempt++) {
      codes = errorCodes(await createProduct({ storeId: w.s1, sku: `CANCEL-${attempt}`, name: 'X', priceCents: 1 }, w.tokens.admin));
      if (codes[0] !== 'SUBSCRIPTION_INACTIVE') await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(codes).toEqual(['SUBSCRIPTION_INACTIVE']);
    const before = await rowsOfMerchant(w.m1);
    expect(errorCodes(await createProduct({ storeId: w.s1b, sku: 'AFTER', name: 'X', priceCents: 1 }, w.tokens.merchant1))).toEqual(['SUBSCRIPTION_INACTIVE']);
    expect(await rowsOfMerchant(w.m1)).toBe(before);
  });

  it('lets exactly the free slots win when 50 creates race past a pool of 5: 2 of 4 used → 2 created, 48 FEATURE_LIMIT_REACHED', async () => {
    const w = await createWorld(urls());
    await overrideLimit(urls().billing, w.m1, w.platformId, 'max_products', 4);
    await newProduct(w, w.s1);
    await newProduct(w, w.s1b);
    // inserts wait until all 5 of catalog's connections are inside their transaction: without the advisory lock
    // each of them has counted 2 and inserts, so fewer slots than connections makes any missing serialisation oversell
    const results = await withInsertsHeld(db.url, "catalog.products", 5,  () =>
      Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          createProduct({ storeId: i % 2 ? w.s1 : w.s1b, sku: `RACE-${i}`, name: `Racer ${i}`, priceCents: i }, i % 3 ? w.tokens.merchant1 : w.tokens.admin),
        ),
      ),
    );
    const succeeded = results.filter((r) => !r.errors);
    const refused = results.filter((r) => r.errors);
    expect(succeeded).toHaveLength(2);
    expect(refused).toHaveLength(48);
    for (const r of refused) {
      expect(r.errors).toHaveLength(1);
      expect(r.errors?.[0].extensions).toEqual({ code: 'FEATURE_LIMIT_REACHED', featureCode: 'max_products', current: 4, limit: 4 });
    }
    expect(await rowsOfMerchant(w.m1)).toBe(4);
  });

  it('frees a slot when a product is deleted', async () => {
    const w = await createWorld(urls());
    await overrideLimit(urls().billing, w.m1, w.platformId, 'max_products', 3);
    const products = [await newProduct(w, w.s1), await newProduct(w, w.s1), await newProduct(w, w.s1b)];
    const full = await createProduct({ storeId: w.s1, sku: 'FULL', name: 'X', priceCents: 1 }, w.tokens.admin);
    expect(full.errors?.[0].extensions).toEqual({ code: 'FEATURE_LIMIT_REACHED', featureCode: 'max_products', current: 3, limit: 3 });
    await expectData(catalog(ops.deleteProduct, { id: products[0].id }, w.tokens.merchant1));
    await newProduct(w, w.s1, w.tokens.store1, { sku: 'FREED' });
    expect([await rowsOfMerchant(w.m1, false), await rowsOfMerchant(w.m1)]).toEqual([3, 4]);
    // the limit is per merchant: m2 (essential, 200) gets past m1's 3 while m1 stays full
    for (let i = 0; i < 4; i++) await newProduct(w, w.s2, w.tokens.merchant2);
    expect(await rowsOfMerchant(w.m2)).toBe(4);
    const stillFull = await createProduct({ storeId: w.s1b, sku: 'STILL-FULL', name: 'X', priceCents: 1 }, w.tokens.merchant1);
    expect(stillFull.errors?.[0].extensions).toEqual({ code: 'FEATURE_LIMIT_REACHED', featureCode: 'max_products', current: 3, limit: 3 });
  });
});

describe('usage: catalog’s part of the fan-out', () => {
  it('counts the merchant’s products on the platform that are not deleted, from MerchantSubscription and from Store', async () => {
    const w = await createWorld(urls());
    await newProduct(w, w.s1);
    await newProduct(w, w.s1b);
    const deleted = await newProduct(w, w.s1b);
    await expectData(catalog(ops.deleteProduct, { id: deleted.id }, w.tokens.admin));
    await newProduct(w, w.s2);
    // the same merchant on another platform is counted apart
    await running.catalog.dataSource.query(
      `INSERT INTO catalog.products (merchant_id, store_id, platform_id, sku, name, price_cents) VALUES ($1, $2, $3, 'ELSEWHERE', 'X', 1)`,
      [w.m1, randomUUID(), randomUUID()],
    );

    const subscriptions = await expectData(
      catalog(
        ops.subscriptionUsage,
        {
          r: [
            { __typename: 'MerchantSubscription', merchantId: w.m1, platformId: w.platformId },
            { __typename: 'MerchantSubscription', merchantId: w.m2, platformId: w.platformId },
            { __typename: 'MerchantSubscription', merchantId: w.m3, platformId: w.platformId },
          ],
        },
        w.tokens.service,
      ),
    );
    expect(subscriptions._entities.map((e: { catalogUsage: unknown }) => e.catalogUsage)).toEqual([
      [{ code: 'max_products', current: 2 }],
      [{ code: 'max_products', current: 1 }],
      [{ code: 'max_products', current: 0 }],
    ]);

    const stores = await expectData(
      catalog(
        ops.storeUsage,
        { r: [{ __typename: 'Store', id: w.s1b, merchantId: w.m1, platformId: w.platformId }] },
        w.tokens.store1b,
      ),
    );
    expect(stores._entities).toEqual([{ id: w.s1b, catalogUsage: [{ code: 'max_products', current: 2 }] }]);
  });

  it('shows a merchant’s usage only to admins, services and the merchant itself', async () => {
    const w = await createWorld(urls());
    const r = [{ __typename: 'MerchantSubscription', merchantId: w.m1, platformId: w.platformId }];
    expect((await catalog(ops.subscriptionUsage, { r }, w.tokens.merchant1)).errors).toBeUndefined();
    const foreign = await catalog(ops.subscriptionUsage, { r }, w.tokens.merchant2);
    expect(errorCodes(foreign)).toEqual(['FORBIDDEN']);
    expect(foreign.data?._entities).toEqual([null]);
    const store = await catalog(ops.storeUsage, { r: [{ __typename: 'Store', id: w.s1, merchantId: w.m1, platformId: w.platformId }] }, w.tokens.store1b);
    expect(errorCodes(store)).toEqual(['FORBIDDEN']);
  });

  it('answers 50 distinct MerchantSubscription representations with one SELECT', async () => {
    const pairs = Array.from({ length: 50 }, () => ({ merchantId: randomUUID(), platformId: randomUUID() }));
    // pair i has i % 4 products
    for (const [i, pair] of pairs.entries()) {
      for (let n = 0; n < i % 4; n++) {
        await running.catalog.dataSource.query(
          `INSERT INTO catalog.products (merchant_id, store_id, platform_id, sku, name, price_cents) VALUES ($1, $2, $3, $4, 'X', 1)`,
          [pair.merchantId, randomUUID(), pair.platformId, `S-${n}`],
        );
      }
    }
    const admin = await tokenFor({ role: 'admin' });
    // every statement at the pg client: the loaders' prepared statements go straight to the pool
    const { statements, stop: stopRecording } = recordSqlStatements();
    let data;
    try {
      data = await expectData(catalog(ops.subscriptionUsage, { r: pairs.map((p) => ({ __typename: 'MerchantSubscription', ...p })) }, admin));
    } finally {
      stopRecording();
    }
    expect(data._entities.map((e: { catalogUsage: Array<{ current: number }> }) => e.catalogUsage[0].current)).toEqual(pairs.map((_, i) => i % 4));
    // every statement catalog ran for the request (other subgraphs share this process, so filter by schema)
    const catalogStatements = statements.filter((sql) => /\bcatalog\./.test(sql));
    expect(catalogStatements).toHaveLength(1);
    expect(catalogStatements[0]).toMatch(/^\s*SELECT[\s\S]*GROUP BY/);
  });
});

describe('feature declarations', () => {
  it('registers max_products with billing’s feature catalog', async () => {
    const admin = (await createWorld(urls())).tokens.admin;
    const data = await expectData(postGraphQL(running.billing.url, { query: setupOps.featureCatalog }, { token: admin }));
    const features = data.featureCatalog.flatMap((c: { features: Array<{ code: string }> }) => c.features);
    expect(features.find((f: { code: string }) => f.code === 'max_products')).toEqual({
      code: 'max_products',
      name: 'Products',
      description: expect.stringContaining('across all'),
      featureType: 'QUANTITATIVE',
      scope: 'MERCHANT',
      unit: 'products',
    });
    expect(data.featureCatalog.find((c: { features: Array<{ code: string }> }) => c.features.some((f) => f.code === 'max_products')).category).toBe('limits');
  });
});

describe('the entitlement cache', () => {
  it('asks billing once per merchant and platform, serves the next creates from memory, and asks again after a change', async () => {
    const w = await createWorld(urls());
    // a second catalog whose calls to billing pass through a counting proxy
    const proxy = await startCountingProxy(running.billing.url);
    // signed like the graph's own subgraphs (startTestSubgraphs): it asks tenancy's _entities for the store
    const counted = await startTestSubgraph(catalogSubgraph, db.url, {
      urls: { billing: proxy.url, tenancy: running.tenancy.url },
      awaitFeatureRegistration: true,
      signatureSecret: TEST_SUBGRAPH_HMAC_SECRET,
    });
    try {
      const create = (sku: string) => postGraphQL(counted.url, { query: ops.createProduct, variables: { input: { storeId: w.s1, sku, name: sku, priceCents: 1 } } }, { token: w.tokens.merchant1 });
      // the first create asks billing; the instance's own feature registration notifies every cache once more
      // ({ all: true }) when it lands, so prime until a create is answered from memory
      let primed = 0;
      for (let before = -1; proxy.count('Entitlements') !== before && primed < 10; primed++) {
        before = proxy.count('Entitlements');
        await expectData(create(`CACHE-PRIME-${primed}`));
      }
      const asked = proxy.count('Entitlements');
      expect(asked).toBeGreaterThanOrEqual(1);
      expect(asked).toBeLessThanOrEqual(2);
      for (const sku of ['CACHE-2', 'CACHE-3', 'CACHE-4']) await expectData(create(sku));
      expect(proxy.count('Entitlements')).toBe(asked); // hits: billing is not asked
      const have = await rowsOfMerchant(w.m1);

      // the change: m1 may now have the products it has; billing notifies, the next create asks billing again
      await overrideLimit(urls().billing, w.m1, w.platformId, 'max_products', have);
      // the notification is sent when billing commits, before billing answers: the very next create must see it
      // (a TTL cache, or one that ignores notifications, would let it through on the old limit)
      const refused = await create('CACHE-AFTER');
      expect(refused.errors?.[0].extensions).toEqual({ code: 'FEATURE_LIMIT_REACHED', featureCode: 'max_products', current: have, limit: have });
      expect(proxy.count('Entitlements')).toBe(asked + 1);
      // and the new plan is cached again
      expect(errorCodes(await create('CACHE-LAST'))).toEqual(['FEATURE_LIMIT_REACHED']);
      expect(proxy.count('Entitlements')).toBe(asked + 1);
      expect(await rowsOfMerchant(w.m1)).toBe(have);
    } finally {
      await counted.stop();
      await proxy.close();
    }
  });
});

describe('tenancy unreachable', () => {
  it('fails closed with TENANCY_UNAVAILABLE for a store this catalog has not looked up, and writes nothing', async () => {
    const w = await createWorld(urls());
    // a catalog whose tenancy is a port on which nothing listens
    const blind = await startTestSubgraph(catalogSubgraph, db.url, { urls: { billing: running.billing.url, tenancy: `http://127.0.0.1:${await freePort()}/graphql` } });
    try {
      const r = await postGraphQL(blind.url, { query: ops.createProduct, variables: { input: { storeId: w.s1, sku: 'NO-TENANCY', name: 'X', priceCents: 1 } } }, { token: w.tokens.merchant1 });
      expect(errorCodes(r)).toEqual(['TENANCY_UNAVAILABLE']);
      expect(r.errors?.[0].message).toMatch(/tenancy/);
      expect(r.data).toBeNull();
      expect(await rowsOfMerchant(w.m1)).toBe(0);
    } finally {
      await blind.stop();
    }
  });
});

// stops billing: keep this last
describe('billing unreachable', () => {
  it('fails closed with ENTITLEMENTS_UNAVAILABLE and writes nothing', async () => {
    const w = await createWorld(urls()); // nothing of this merchant's plan is cached yet
    await running.billing.stop();
    const r = await createProduct({ storeId: w.s1, sku: 'NO-BILLING', name: 'X', priceCents: 1 }, w.tokens.merchant1);
    expect(errorCodes(r)).toEqual(['ENTITLEMENTS_UNAVAILABLE']);
    expect(r.errors?.[0].message).toMatch(/billing/);
    expect(await rowsOfMerchant(w.m1)).toBe(0);
  });
});
