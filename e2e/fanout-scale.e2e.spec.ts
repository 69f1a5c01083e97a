import { randomUUID } from 'node:crypto';
import { postGraphQL, recordSqlStatements, tokenFor } from '@tiergraph/testkit';
import { contractOperation, startTestGraph, type TestGraph } from './graph';

const MERCHANTS = 1000;
let graph: TestGraph;
let admin: string;
const platformId = randomUUID();

/** 1,000 merchants with subscriptions on one platform, written straight into each owner's tables. */
async function seed(): Promise<void> {
  const db = graph.subgraphs.tenancy.dataSource;
  await db.query(`INSERT INTO tenancy.platforms (id, code, name) VALUES ($1, 'scale', 'Scale')`, [platformId]);
  await db.query(
    `INSERT INTO tenancy.merchants (id, name, email)
     SELECT gen_random_uuid(), 'Merchant ' || lpad(i::text, 4, '0'), 'm' || i || '@scale.test' FROM generate_series(1, $1) AS i`,
    [MERCHANTS],
  );
  await db.query(
    `INSERT INTO billing.merchant_subscriptions (merchant_id, platform_id, merchant_name, tier_id, status, billing_cycle, current_period_start, current_period_end)
     SELECT m.id, $1, m.name, t.id, 'ACTIVE', 'MONTHLY', now() - interval '3 days', now() + interval '27 days'
       FROM tenancy.merchants m
       JOIN billing.subscription_tiers t ON t.code = (ARRAY['essential', 'professional', 'business', 'enterprise'])[1 + (abs(hashtext(m.id::text)) % 4)]
      WHERE m.email LIKE '%@scale.test'`,
    [platformId],
  );
  // Merchant n gets n % 7 products, n % 5 orders in its current period and n % 3 MiB of media, each in its own
  // subgraph's table: a contribution attached to the wrong row of the page shows as a wrong count
  const merchantNumber = `substring(m.name from 10)::int`;
  await db.query(
    `INSERT INTO catalog.products (merchant_id, store_id, platform_id, sku, name, price_cents)
     SELECT m.id, gen_random_uuid(), $1, 'SKU-' || i, 'P' || i, 100
       FROM tenancy.merchants m, generate_series(1, 6) AS i WHERE m.email LIKE '%@scale.test' AND i <= ${merchantNumber} % 7`,
    [platformId],
  );
  await db.query(
    `INSERT INTO orders.orders (merchant_id, store_id, platform_id, total_cents, currency)
     SELECT m.id, gen_random_uuid(), $1, 100, 'EUR'
       FROM tenancy.merchants m, generate_series(1, 4) AS i WHERE m.email LIKE '%@scale.test' AND i <= ${merchantNumber} % 5`,
    [platformId],
  );
  await db.query(
    `INSERT INTO media.media_files (merchant_id, store_id, platform_id, filename, mime_type, size_bytes, storage_key, stored_bytes)
     SELECT m.id, gen_random_uuid(), $1, 'f.png', 'image/png', ${1024 * 1024}, gen_random_uuid()::text, ${1024 * 1024}
       FROM tenancy.merchants m, generate_series(1, 2) AS i WHERE m.email LIKE '%@scale.test' AND i <= ${merchantNumber} % 3`,
    [platformId],
  );
}

/** The reference tiers' limits (null: unlimited), as the migrations seed them. */
const TIER_LIMITS: Record<string, Record<string, number | null>> = {
  essential: { max_products: 200, max_orders_per_month: 100, max_storage_mb: 1024 },
  professional: { max_products: 500, max_orders_per_month: 500, max_storage_mb: 5120 },
  business: { max_products: 2000, max_orders_per_month: 2000, max_storage_mb: 20480 },
  enterprise: { max_products: null, max_orders_per_month: null, max_storage_mb: null },
};

/** Subgraph fetches made by the gateway, per subgraph, from its own metrics. */
async function fetchCounts(): Promise<Record<string, number>> {
  const metric = await graph.gateway.metrics.subgraphFetchDuration.get();
  return Object.fromEntries(metric.values.filter((v) => v.metricName?.endsWith('_count')).map((v) => [String(v.labels.subgraph), v.value]));
}

/** Runs the contract's AdminSubscriptions and counts subgraph fetches and SQL statements it caused. */
async function measure(first: number) {
  // every statement the subgraphs send, at the pg client: TypeORM's query runners and the loaders' prepared
  // statements straight to the pool alike (testkit's recordSqlStatements)
  const { statements, stop } = recordSqlStatements();
  const before = await fetchCounts();
  let response;
  try {
    response = await postGraphQL(graph.gateway.url, { query: contractOperation('AdminSubscriptions'), variables: { first, filter: { search: 'Merchant ' } } }, { token: admin });
  } finally {
    stop();
  }
  const after = await fetchCounts();
  const fetches = Object.fromEntries(Object.keys(after).map((k) => [k, after[k] - (before[k] ?? 0)]).filter(([, n]) => n !== 0));
  return { response, fetches, statements: statements.length };
}

beforeAll(async () => {
  graph = await startTestGraph();
  admin = await tokenFor({ role: 'admin' });
  await seed();
});

afterAll(async () => {
  await graph?.stop();
});

describe('no N+1: a page of 1,000 subscriptions with features', () => {
  it('makes the same subgraph fetches and SQL statements for 10 rows as for 100 and 1,000', async () => {
    await measure(5); // warm the per-process caches (feature catalog, entitlements) so both runs compare like with like
    const small = await measure(10);
    const medium = await measure(100);
    const large = await measure(1000);

    expect(large.response.errors).toBeUndefined();
    const connection = large.response.data?.merchantSubscriptions;
    expect(connection.totalCount).toBe(MERCHANTS);
    expect(connection.edges).toHaveLength(MERCHANTS);
    // every row: its own merchant's counts and its own tier's limits
    const tiers: Array<{ merchant_name: string; code: string }> = await graph.subgraphs.billing.dataSource.query(
      `SELECT s.merchant_name, t.code FROM billing.merchant_subscriptions s JOIN billing.subscription_tiers t ON t.id = s.tier_id WHERE s.platform_id = $1`,
      [platformId],
    );
    const tierOf = new Map(tiers.map((t) => [t.merchant_name, t.code]));
    type Row = { merchant: { name: string }; tier: { code: string }; features: Array<{ code: string; current: number | null; limit: number | null }> };
    const actual = connection.edges.map(({ node }: { node: Row }) => {
      const feature = (code: string) => node.features.find((f) => f.code === code);
      const picked = (code: string) => ({ current: feature(code)?.current, limit: feature(code)?.limit });
      return [node.merchant.name, node.tier.code, picked('max_products'), picked('max_orders_per_month'), picked('max_storage_mb')];
    });
    const expected = connection.edges.map(({ node }: { node: Row }) => {
      const n = Number(node.merchant.name.slice('Merchant '.length));
      const tier = tierOf.get(node.merchant.name)!;
      const limits = TIER_LIMITS[tier];
      return [
        node.merchant.name,
        tier,
        { current: n % 7, limit: limits.max_products },
        { current: n % 5, limit: limits.max_orders_per_month },
        { current: n % 3, limit: limits.max_storage_mb },
      ];
    });
    expect(actual).toEqual(expected);
    expect(actual[0][0]).toBe('Merchant 0001');
    // all 1,000 merchants, each once
    expect(new Set(actual.map((row: unknown[]) => row[0])).size).toBe(MERCHANTS);

    // one fetch per subgraph per plan step, whatever the page size
    expect(large.fetches).toEqual(small.fetches);
    expect(medium.fetches).toEqual(small.fetches);
    // billing twice (the page, then the features with the contributed usage), every contributor once
    expect(large.fetches).toEqual({ billing: 2, tenancy: 1, catalog: 1, orders: 1, media: 1 });
    // and SQL statements that do not grow with the page
    expect(small.statements).toBeGreaterThan(0);
    expect(medium.statements).toBe(small.statements);
    expect(large.statements).toBe(small.statements);
    expect(large.statements).toBeLessThanOrEqual(15);
  });
});
