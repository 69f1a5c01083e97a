import { billingSubgraph } from '@tiergraph/billing';
import { repairUsageCounter, ALL_TAGS, TAGS_CHANNEL, usageCounterDrift, type RunningSubgraph } from '@tiergraph/runtime';
import { Client } from 'pg';
import { tenancySubgraph } from '@tiergraph/tenancy';
import { createTestDatabase, createWorld, expectData, overrideLimit, postGraphQL, startTestSubgraphs, withInsertsHeld, type GraphQLResponse, type TestDatabase, type World } from '@tiergraph/testkit';
import { catalogSubgraph, PRODUCT_COUNTS } from '../index';

/** Issue 12: max_products read from catalog.product_counts, kept in the writing transaction; counter = count(*). */
const ops = {
  createProduct: `mutation($input: CreateProductInput!) { createProduct(input: $input) { id } }`,
  deleteProduct: `mutation($id: ID!) { deleteProduct(id: $id) }`,
  subscriptionUsage: `query($r: [_Any!]!) { _entities(representations: $r) { ... on MerchantSubscription { catalogUsage { code current } } } }`,
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
const catalog = (query: string, variables: Record<string, unknown>, token: string): Promise<GraphQLResponse> =>
  postGraphQL(running.catalog.url, { query, variables }, { token });

let sku = 0;
async function newProduct(w: World, storeId: string): Promise<string> {
  const data = await expectData(catalog(ops.createProduct, { input: { storeId, sku: `C-${++sku}`, name: `P ${sku}`, priceCents: 1 } }, w.tokens.admin));
  return data.createProduct.id;
}

async function counted(merchantId: string): Promise<{ counter: number; rows: number }> {
  const [row] = await running.catalog.dataSource.query(
    `SELECT (SELECT coalesce(sum(n), 0)::int FROM catalog.product_counts WHERE merchant_id = $1) AS counter,
            (SELECT count(*)::int FROM catalog.products WHERE merchant_id = $1 AND deleted_at IS NULL) AS rows`,
    [merchantId],
  );
  return row;
}

async function usage(w: World): Promise<number> {
  const data = await expectData(catalog(ops.subscriptionUsage, { r: [{ __typename: 'MerchantSubscription', merchantId: w.m1, platformId: w.platformId }] }, w.tokens.admin));
  return data._entities[0].catalogUsage[0].current;
}

describe('catalog.product_counts', () => {
  it('equals count(*) per store after 40 creates and 10 deletes race, and usage reads it', async () => {
    const w = await createWorld(urls());
    const existing: string[] = [];
    for (let i = 0; i < 10; i++) existing.push(await newProduct(w, i % 2 ? w.s1 : w.s1b));
    const results = await withInsertsHeld(db.url, 'catalog.products', 5, () =>
      Promise.all([
        ...Array.from({ length: 40 }, (_, i) =>
          catalog(ops.createProduct, { input: { storeId: i % 2 ? w.s1 : w.s1b, sku: `RACE-${i}`, name: `R ${i}`, priceCents: i } }, w.tokens.admin),
        ),
        ...existing.map((id) => catalog(ops.deleteProduct, { id }, w.tokens.admin)),
      ]),
    );
    expect(results.filter((r) => r.errors)).toEqual([]);
    expect(await counted(w.m1)).toEqual({ counter: 40, rows: 40 });
    expect(await usageCounterDrift(running.catalog.dataSource, PRODUCT_COUNTS)).toEqual([]);
    expect(await usage(w)).toBe(40);
  });

  it('keeps the limit under a race with the counter: 3 of 5 used, 30 racing creates → 2 created', async () => {
    const w = await createWorld(urls());
    await overrideLimit(urls().billing, w.m1, w.platformId, 'max_products', 5);
    for (let i = 0; i < 3; i++) await newProduct(w, w.s1);
    const results = await withInsertsHeld(db.url, 'catalog.products', 5, () =>
      Promise.all(Array.from({ length: 30 }, (_, i) => catalog(ops.createProduct, { input: { storeId: w.s1b, sku: `LIM-${i}`, name: 'X', priceCents: 1 } }, w.tokens.admin))),
    );
    expect(results.filter((r) => !r.errors)).toHaveLength(2);
    expect(results.filter((r) => r.errors).map((r) => r.errors?.[0].extensions?.code)).toEqual(Array(28).fill('FEATURE_LIMIT_REACHED'));
    expect(await counted(w.m1)).toEqual({ counter: 5, rows: 5 });
  });

  it('is unchanged by a failed insert (rolled back) and by a refused one', async () => {
    const w = await createWorld(urls());
    await overrideLimit(urls().billing, w.m1, w.platformId, 'max_products', 2);
    await newProduct(w, w.s1);
    // the same sku in the same store: the insert fails on the unique index after the counter's trigger could run
    const [{ sku: taken }] = await running.catalog.dataSource.query(`SELECT sku FROM catalog.products WHERE merchant_id = $1`, [w.m1]);
    const duplicate = await catalog(ops.createProduct, { input: { storeId: w.s1, sku: taken, name: 'Dup', priceCents: 1 } }, w.tokens.admin);
    expect(duplicate.errors).toHaveLength(1);
    expect(await counted(w.m1)).toEqual({ counter: 1, rows: 1 });
    // a statement that inserts then fails inside one transaction: the trigger's increment rolls back with it
    await expect(
      running.catalog.dataSource.transaction(async (m) => {
        await m.query(`INSERT INTO catalog.products (merchant_id, store_id, platform_id, sku, name, price_cents) VALUES ($1, $2, $3, 'ROLLED', 'X', 1)`, [w.m1, w.s1, w.platformId]);
        expect((await m.query(`SELECT sum(n)::int AS n FROM catalog.product_counts WHERE merchant_id = $1`, [w.m1]))[0].n).toBe(2);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await counted(w.m1)).toEqual({ counter: 1, rows: 1 });
    await newProduct(w, w.s1b);
    const refused = await catalog(ops.createProduct, { input: { storeId: w.s1, sku: 'FULL', name: 'X', priceCents: 1 } }, w.tokens.admin);
    expect(refused.errors?.[0].extensions?.code).toBe('FEATURE_LIMIT_REACHED');
    expect(await counted(w.m1)).toEqual({ counter: 2, rows: 2 });
  });

  it('is rebuilt from the rows by repairUsageCounter, idempotently', async () => {
    const w = await createWorld(urls());
    for (let i = 0; i < 3; i++) await newProduct(w, i ? w.s1 : w.s1b);
    const ds = running.catalog.dataSource;
    await ds.query(`UPDATE catalog.product_counts SET n = n + 7 WHERE store_id = $1`, [w.s1]);
    await ds.query(`DELETE FROM catalog.product_counts WHERE store_id = $1`, [w.s1b]);
    await ds.query(`INSERT INTO catalog.product_counts (merchant_id, platform_id, store_id, n) VALUES ($1, $2, gen_random_uuid(), 4)`, [w.m1, w.platformId]);
    expect((await usageCounterDrift(ds, PRODUCT_COUNTS)).length).toBe(3);
    // a correction evicts everything the gateway's response cache built from counters (it names no tag of its own)
    const listener = new Client({ connectionString: db.url });
    await listener.connect();
    const notified: Array<string | undefined> = [];
    listener.on('notification', (message) => notified.push(message.payload));
    await listener.query(`LISTEN ${TAGS_CHANNEL}`);
    try {
      expect(await repairUsageCounter(ds, PRODUCT_COUNTS)).toBe(3);
      expect(await usageCounterDrift(ds, PRODUCT_COUNTS)).toEqual([]);
      expect(await repairUsageCounter(ds, PRODUCT_COUNTS)).toBe(0);
      await listener.query('SELECT 1'); // notifications sent before this answer have arrived
      expect(notified).toEqual([ALL_TAGS]);
    } finally {
      await listener.end();
    }
    expect(await counted(w.m1)).toEqual({ counter: 3, rows: 3 });
  });
});
