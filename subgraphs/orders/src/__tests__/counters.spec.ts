import { billingSubgraph } from '@tiergraph/billing';
import { catalogSubgraph } from '@tiergraph/catalog';
import { repairUsageCounter, usageCounterDrift, type RunningSubgraph } from '@tiergraph/runtime';
import { tenancySubgraph } from '@tiergraph/tenancy';
import { createTestDatabase, createWorld, expectData, overrideLimit, postGraphQL, startTestSubgraphs, withInsertsHeld, type GraphQLResponse, type TestDatabase, type World } from '@tiergraph/testkit';
import { ORDER_COUNTS, ordersSubgraph } from '../index';
import { OrdersStore } from '../store/orders-store';

/** Issue 12: max_orders_per_month from orders.order_counts (per UTC day) plus the partial days; counter = count(*). */
const ops = {
  createProduct: `mutation($input: CreateProductInput!) { createProduct(input: $input) { id } }`,
  placeOrder: `mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }`,
  usage: `query($r: [_Any!]!) { _entities(representations: $r) { ... on MerchantSubscription { ordersUsage { code current } } } }`,
};

let db: TestDatabase;
let running: Record<'billing' | 'tenancy' | 'catalog' | 'orders', RunningSubgraph>;

beforeAll(async () => {
  db = await createTestDatabase();
  running = await startTestSubgraphs({ billing: billingSubgraph, tenancy: tenancySubgraph, catalog: catalogSubgraph, orders: ordersSubgraph }, db.url);
});

afterAll(async () => {
  await Promise.all(Object.values(running ?? {}).map((s) => s.stop()));
  await db?.drop();
});

const urls = () => ({ tenancy: running.tenancy.url, billing: running.billing.url });
const placeOrder = (w: World, storeId: string, productId: string): Promise<GraphQLResponse> =>
  postGraphQL(running.orders.url, { query: ops.placeOrder, variables: { input: { storeId, items: [{ productId, quantity: 1 }] } } }, { token: w.tokens.admin });

let sku = 0;
async function product(w: World, storeId: string): Promise<string> {
  const input = { storeId, sku: `OC-${++sku}`, name: `P ${sku}`, priceCents: 100 };
  return (await expectData(postGraphQL(running.catalog.url, { query: ops.createProduct, variables: { input } }, { token: w.tokens.admin }))).createProduct.id;
}

async function counted(merchantId: string): Promise<{ counter: number; rows: number }> {
  const [row] = await running.orders.dataSource.query(
    `SELECT (SELECT coalesce(sum(n), 0)::int FROM orders.order_counts WHERE merchant_id = $1) AS counter,
            (SELECT count(*)::int FROM orders.orders WHERE merchant_id = $1) AS rows`,
    [merchantId],
  );
  return row;
}

async function countScanned(w: World, start: string | null, end: string | null): Promise<number> {
  const [{ n }] = await running.orders.dataSource.query(
    `SELECT count(*)::int AS n FROM orders.orders WHERE merchant_id = $1 AND platform_id = $2
        AND created_at >= coalesce($3::timestamptz, '-infinity') AND created_at < coalesce($4::timestamptz, 'infinity')`,
    [w.m1, w.platformId, start, end],
  );
  return n;
}

describe('orders.order_counts', () => {
  it('equals count(*) per day after 30 orders race, and usage in the period reads it', async () => {
    const w = await createWorld(urls());
    await overrideLimit(urls().billing, w.m1, w.platformId, 'max_orders_per_month', 1000);
    const [a, b] = [await product(w, w.s1), await product(w, w.s1b)];
    const results = await withInsertsHeld(db.url, 'orders.orders', 5, () =>
      Promise.all(Array.from({ length: 30 }, (_, i) => placeOrder(w, i % 2 ? w.s1 : w.s1b, i % 2 ? a : b))),
    );
    expect(results.filter((r) => r.errors)).toEqual([]);
    expect(await counted(w.m1)).toEqual({ counter: 30, rows: 30 });
    expect(await usageCounterDrift(running.orders.dataSource, ORDER_COUNTS)).toEqual([]);
    const usage = await expectData(
      postGraphQL(running.orders.url, { query: ops.usage, variables: { r: [{ __typename: 'MerchantSubscription', merchantId: w.m1, platformId: w.platformId, currentPeriodStart: w.period.start, currentPeriodEnd: w.period.end }] } }, { token: w.tokens.admin }),
    );
    expect(usage._entities[0].ordersUsage).toEqual([{ code: 'max_orders_per_month', current: 30 }]);
  });

  it('counts exactly in any period: whole days from the counter, partial days and sub-day periods from the rows', async () => {
    const w = await createWorld(urls());
    // 400 orders over 70 days at random instants, in one statement (the statement trigger groups them by day)
    await running.orders.dataSource.query(
      `INSERT INTO orders.orders (merchant_id, store_id, platform_id, total_cents, currency, created_at)
       SELECT $1, $2, $3, 100, 'EUR', timestamptz '2026-01-01T00:00:00Z' + random() * interval '70 days' FROM generate_series(1, 400)`,
      [w.m1, w.s1, w.platformId],
    );
    // and some exactly at midnight, the edge of a day's row
    await running.orders.dataSource.query(
      `INSERT INTO orders.orders (merchant_id, store_id, platform_id, total_cents, currency, created_at)
       SELECT $1, $2, $3, 100, 'EUR', timestamptz '2026-01-10T00:00:00Z' + d * interval '1 day' FROM generate_series(0, 5) d`,
      [w.m1, w.s1, w.platformId],
    );
    expect(await usageCounterDrift(running.orders.dataSource, ORDER_COUNTS)).toEqual([]);
    const store = new OrdersStore(running.orders.dataSource);
    const base = Date.parse('2025-12-25T00:00:00Z');
    const periods: Array<[string | null, string | null]> = [
      [null, null],
      [null, '2026-02-01T00:00:00Z'],
      ['2026-01-10T00:00:00Z', null],
      ['2026-01-10T00:00:00Z', '2026-01-12T00:00:00Z'],
      ['2026-01-10T00:00:00Z', '2026-01-10T00:00:00.001Z'],
      ['2026-01-11T05:00:00Z', '2026-01-11T17:00:00Z'],
      ['2026-01-11T05:00:00Z', '2026-01-12T05:00:00Z'],
      ['2026-01-01T00:00:00Z', '2026-03-15T00:00:00Z'],
    ];
    for (let i = 0; i < 40; i++) {
      const start = base + Math.floor(Math.random() * 80 * 86_400_000);
      periods.push([new Date(start).toISOString(), new Date(start + Math.floor(Math.random() * 35 * 86_400_000)).toISOString()]);
    }
    const keyed = periods.filter((p): p is [string, string] => p[0] !== null && p[1] !== null);
    const batched = await store.orderCountsInPeriods(keyed.map(([periodStart, periodEnd]) => ({ merchantId: w.m1, platformId: w.platformId, periodStart, periodEnd })));
    for (const [index, [start, end]] of keyed.entries()) expect([start, end, batched[index]]).toEqual([start, end, await countScanned(w, start, end)]);
    for (const [start, end] of periods) {
      const inLock = await running.orders.dataSource.transaction((m) => store.countOrdersInPeriod(m, { merchantId: w.m1, platformId: w.platformId }, start, end));
      expect([start, end, inLock]).toEqual([start, end, await countScanned(w, start, end)]);
    }
  });

  it('is unchanged by a failed insert (rolled back) and by a refused order', async () => {
    const w = await createWorld(urls());
    await overrideLimit(urls().billing, w.m1, w.platformId, 'max_orders_per_month', 1);
    const a = await product(w, w.s1);
    await expectData(placeOrder(w, w.s1, a));
    await expect(
      running.orders.dataSource.transaction(async (m) => {
        await m.query(`INSERT INTO orders.orders (merchant_id, store_id, platform_id, total_cents, currency) VALUES ($1, $2, $3, 1, 'EUR')`, [w.m1, w.s1, w.platformId]);
        expect((await m.query(`SELECT sum(n)::int AS n FROM orders.order_counts WHERE merchant_id = $1`, [w.m1]))[0].n).toBe(2);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await counted(w.m1)).toEqual({ counter: 1, rows: 1 });
    const refused = await placeOrder(w, w.s1, a);
    expect(refused.errors?.[0].extensions?.code).toBe('FEATURE_LIMIT_REACHED');
    expect(await counted(w.m1)).toEqual({ counter: 1, rows: 1 });
  });

  it('is rebuilt from the rows by repairUsageCounter, idempotently', async () => {
    const w = await createWorld(urls());
    await overrideLimit(urls().billing, w.m1, w.platformId, 'max_orders_per_month', 10);
    const a = await product(w, w.s1);
    for (let i = 0; i < 3; i++) await expectData(placeOrder(w, w.s1, a));
    const ds = running.orders.dataSource;
    await ds.query(`UPDATE orders.order_counts SET n = 9 WHERE merchant_id = $1`, [w.m1]);
    await ds.query(`INSERT INTO orders.order_counts (merchant_id, platform_id, day, n) VALUES ($1, $2, '2020-01-01', 4)`, [w.m1, w.platformId]);
    expect((await usageCounterDrift(ds, ORDER_COUNTS)).length).toBe(2);
    expect(await repairUsageCounter(ds, ORDER_COUNTS)).toBe(2);
    expect(await usageCounterDrift(ds, ORDER_COUNTS)).toEqual([]);
    expect(await repairUsageCounter(ds, ORDER_COUNTS)).toBe(0);
    expect(await counted(w.m1)).toEqual({ counter: 3, rows: 3 });
  });
});
