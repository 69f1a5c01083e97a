import { randomUUID } from 'node:crypto';
import { billingSubgraph } from '@tiergraph/billing';
import { catalogSubgraph } from '@tiergraph/catalog';
import type { RunningSubgraph } from '@tiergraph/runtime';
import { tenancySubgraph } from '@tiergraph/tenancy';
import { createTestDatabase, errorCodes, postGraphQL, startTestSubgraphs, tokenFor, withInsertsHeld, type GraphQLResponse, type TestDatabase } from '@tiergraph/testkit';
import { ordersSubgraph } from '../index';
import { createWorld, expectData, recordSqlStatements, overrideLimit, setupOps, type World } from '@tiergraph/testkit';

const ops = {
  createProduct: `mutation($input: CreateProductInput!) { createProduct(input: $input) { id priceCents currency } }`,
  deleteProduct: `mutation($id: ID!) { deleteProduct(id: $id) }`,
  placeOrder: `mutation($input: PlaceOrderInput!) {
    placeOrder(input: $input) { id status totalCents currency customerEmail createdAt store { id } items { product { id } quantity unitPriceCents } }
  }`,
  order: `query($r: [_Any!]!) { _entities(representations: $r) { ... on Order { id totalCents items { product { id } quantity unitPriceCents } } } }`,
  subscriptionUsage: `query($r: [_Any!]!) { _entities(representations: $r) { ... on MerchantSubscription { merchantId ordersUsage { code current } } } }`,
  storeUsage: `query($r: [_Any!]!) { _entities(representations: $r) { ... on Store { id ordersUsage { code current } } } }`,
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

function orders(query: string, variables: Record<string, unknown>, token: string): Promise<GraphQLResponse> {
  return postGraphQL(running.orders.url, { query, variables }, { token });
}

function placeOrder(input: Record<string, unknown>, token: string): Promise<GraphQLResponse> {
  return orders(ops.placeOrder, { input }, token);
}

let skuCounter = 0;
async function product(w: World, storeId: string, priceCents: number, currency = 'EUR'): Promise<string> {
  const input = { storeId, sku: `O-${++skuCounter}`, name: `Product ${skuCounter}`, priceCents, currency };
  const data = await expectData(postGraphQL(running.catalog.url, { query: ops.createProduct, variables: { input } }, { token: w.tokens.admin }));
  return data.createProduct.id;
}

/** A world with products: two EUR ones and a USD one in s1, one in s1b (same merchant), a deleted one in s1, one in s2. */
async function shop() {
  const w = await createWorld(urls());
  const p = {
    mug: await product(w, w.s1, 1250),
    tee: await product(w, w.s1, 399),
    dollar: await product(w, w.s1, 500, 'USD'),
    sibling: await product(w, w.s1b, 700),
    deleted: await product(w, w.s1, 100),
    foreign: await product(w, w.s2, 800),
  };
  await expectData(postGraphQL(running.catalog.url, { query: ops.deleteProduct, variables: { id: p.deleted } }, { token: w.tokens.admin }));
  return { w, p };
}

async function ordersOf(merchantId: string): Promise<{ orders: number; items: number }> {
  const [row] = await running.orders.dataSource.query(
    `SELECT (SELECT count(*)::int FROM orders.orders WHERE merchant_id = $1) AS orders,
            (SELECT count(*)::int FROM orders.order_items i JOIN orders.orders o ON o.id = i.order_id WHERE o.merchant_id = $1) AS items`,
    [merchantId],
  );
  return row;
}

async function insertOrderAt(w: World, createdAt: string, merchantId = w.m1, platformId = w.platformId): Promise<void> {
  await running.orders.dataSource.query(
    `INSERT INTO orders.orders (merchant_id, store_id, platform_id, total_cents, currency, created_at) VALUES ($1, $2, $3, 100, 'EUR', $4)`,
    [merchantId, w.s1, platformId, createdAt],
  );
}

describe('placeOrder', () => {
  it('places an order with the total in cents and the unit prices of the moment, which later price changes do not touch', async () => {
    const { w, p } = await shop();
    const data = await expectData(
      placeOrder(
        { storeId: w.s1, customerEmail: ' Buyer@Example.com ', items: [{ productId: p.mug, quantity: 2 }, { productId: p.tee, quantity: 3 }, { productId: p.mug, quantity: 1 }] },
        w.tokens.store1,
      ),
    );
    expect(data.placeOrder).toEqual({
      id: expect.any(String),
      status: 'PENDING',
      totalCents: 3 * 1250 + 3 * 399,
      currency: 'EUR',
      customerEmail: 'buyer@example.com',
      createdAt: expect.any(String),
      store: { id: w.s1 },
      items: [
        { product: { id: p.mug }, quantity: 2, unitPriceCents: 1250 },
        { product: { id: p.tee }, quantity: 3, unitPriceCents: 399 },
        { product: { id: p.mug }, quantity: 1, unitPriceCents: 1250 },
      ],
    });
    const orderId = data.placeOrder.id;
    const [row] = await running.orders.dataSource.query(`SELECT merchant_id, store_id, platform_id FROM orders.orders WHERE id = $1`, [orderId]);
    expect(row).toEqual({ merchant_id: w.m1, store_id: w.s1, platform_id: w.platformId });

    // the catalog price changes afterwards; the order keeps what the customer was charged
    await running.catalog.dataSource.query(`UPDATE catalog.products SET price_cents = 99999 WHERE id = $1`, [p.mug]);
    const stored: Array<{ unit_price_cents: number }> = await running.orders.dataSource.query(
      `SELECT unit_price_cents FROM orders.order_items WHERE order_id = $1 ORDER BY position`,
      [orderId],
    );
    expect(stored.map((s) => s.unit_price_cents)).toEqual([1250, 399, 1250]);
    const resolved = await expectData(orders(ops.order, { r: [{ __typename: 'Order', id: orderId }] }, w.tokens.merchant1));
    expect(resolved._entities[0]).toEqual({ id: orderId, totalCents: 4947, items: data.placeOrder.items });
    // a new order takes the new price
    const next = await expectData(placeOrder({ storeId: w.s1, items: [{ productId: p.mug, quantity: 1 }] }, w.tokens.admin));
    expect([next.placeOrder.totalCents, next.placeOrder.customerEmail]).toEqual([99999, null]);
  });

  it('lets admins, the owning merchant and the store’s users order; refuses other tenants and services; NOT_FOUND for unknown stores', async () => {
    const { w, p } = await shop();
    const t = w.tokens;
    const roles = { admin: t.admin, merchant1: t.merchant1, store1: t.store1, merchant2: t.merchant2, store1b: t.store1b, store2: t.store2, service: t.service };
    const outcome: Record<string, string> = {};
    for (const [role, token] of Object.entries(roles)) {
      const r = await placeOrder({ storeId: w.s1, items: [{ productId: p.tee, quantity: 1 }] }, token);
      outcome[role] = r.errors ? errorCodes(r)[0] : 'ok';
    }
    expect(outcome).toEqual({ admin: 'ok', merchant1: 'ok', store1: 'ok', merchant2: 'FORBIDDEN', store1b: 'FORBIDDEN', store2: 'FORBIDDEN', service: 'FORBIDDEN' });
    for (const storeId of [randomUUID(), 'nope']) {
      expect(errorCodes(await placeOrder({ storeId, items: [{ productId: p.tee, quantity: 1 }] }, t.admin))).toEqual(['NOT_FOUND']);
    }
    expect(await ordersOf(w.m1)).toEqual({ orders: 3, items: 3 });
  });

  it('refuses with SUBSCRIPTION_INACTIVE when the merchant has no subscription', async () => {
    const w = await createWorld(urls());
    const input = { storeId: w.s3, sku: 'NOSUB', name: 'X', priceCents: 1 };
    // m3 has no subscription, so catalog refuses its products too: use a row written directly
    const [{ id }] = await running.catalog.dataSource.query(
      `INSERT INTO catalog.products (merchant_id, store_id, platform_id, sku, name, price_cents) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
      [w.m3, w.s3, w.platformId, input.sku, input.name, input.priceCents],
    );
    const r = await placeOrder({ storeId: w.s3, items: [{ productId: id, quantity: 1 }] }, w.tokens.merchant3);
    expect(errorCodes(r)).toEqual(['SUBSCRIPTION_INACTIVE']);
    expect(await ordersOf(w.m3)).toEqual({ orders: 0, items: 0 });
  });
});

describe('bad input: BAD_USER_INPUT naming the field, and nothing written', () => {
  type Case = [string, string, (p: Awaited<ReturnType<typeof shop>>['p']) => Record<string, unknown>];
  const cases: Case[] = [
    ['no items', 'items', () => ({ items: [] })],
    ['quantity 0', 'items.0.quantity', (p) => ({ items: [{ productId: p.mug, quantity: 0 }] })],
    ['a negative quantity in the second item', 'items.1.quantity', (p) => ({ items: [{ productId: p.mug, quantity: 1 }, { productId: p.tee, quantity: -2 }] })],
    ['a product of another store of the same merchant', 'items.1.productId', (p) => ({ items: [{ productId: p.mug, quantity: 1 }, { productId: p.sibling, quantity: 1 }] })],
    ['a product of another merchant', 'items.0.productId', (p) => ({ items: [{ productId: p.foreign, quantity: 1 }] })],
    ['a deleted product', 'items.0.productId', (p) => ({ items: [{ productId: p.deleted, quantity: 1 }] })],
    ['an unknown product', 'items.1.productId', (p) => ({ items: [{ productId: p.mug, quantity: 1 }, { productId: randomUUID(), quantity: 1 }] })],
    ['a product id that is no uuid', 'items.1.productId', (p) => ({ items: [{ productId: p.tee, quantity: 1 }, { productId: 'mug', quantity: 1 }] })],
    ['two currencies', 'items', (p) => ({ items: [{ productId: p.mug, quantity: 1 }, { productId: p.dollar, quantity: 1 }] })],
    ['an invalid email', 'customerEmail', (p) => ({ items: [{ productId: p.mug, quantity: 1 }], customerEmail: 'not-an-email' })],
    ['a total beyond an Int', 'items', (p) => ({ items: [{ productId: p.mug, quantity: 2_000_000 }] })],
  ];

  it.each(cases)('%s → field %s', async (_what, field, build) => {
    const { w, p } = await shop();
    const r = await placeOrder({ storeId: w.s1, ...build(p) }, w.tokens.merchant1);
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(r.data).toBeNull();
    expect(await ordersOf(w.m1)).toEqual({ orders: 0, items: 0 });
  });
});

describe('max_orders_per_month', () => {
  it('lets exactly the free slots win when 30 orders race past a pool of 5: 1 of 3 used → 2 placed, 28 FEATURE_LIMIT_REACHED', async () => {
    const { w, p } = await shop();
    await overrideLimit(urls().billing, w.m1, w.platformId, 'max_orders_per_month', 3);
    await expectData(placeOrder({ storeId: w.s1, items: [{ productId: p.mug, quantity: 1 }] }, w.tokens.admin));
    // an order before the current period does not use a slot
    await insertOrderAt(w, new Date(Date.parse(w.period.start) - 86_400_000).toISOString());
    // inserts wait until all 5 of orders' connections are inside their transaction: without the advisory lock each
    // of them has counted 1 and inserts, so fewer slots than connections makes any missing serialisation oversell
    const results = await withInsertsHeld(db.url, 'orders.orders', 5, () =>
      Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          placeOrder({ storeId: i % 2 ? w.s1 : w.s1b, items: [{ productId: i % 2 ? p.tee : p.sibling, quantity: 1 + (i % 3) }] }, i % 2 ? w.tokens.store1 : w.tokens.merchant1),
        ),
      ),
    );
    const refused = results.filter((r) => r.errors);
    expect(results.filter((r) => !r.errors)).toHaveLength(2);
    expect(refused).toHaveLength(28);
    for (const r of refused) {
      expect(r.errors?.[0].extensions).toEqual({ code: 'FEATURE_LIMIT_REACHED', featureCode: 'max_orders_per_month', current: 3, limit: 3 });
    }
    const [{ n }] = await running.orders.dataSource.query(
      `SELECT count(*)::int AS n FROM orders.orders WHERE merchant_id = $1 AND created_at >= $2 AND created_at < $3`,
      [w.m1, w.period.start, w.period.end],
    );
    expect(n).toBe(3);
    // every placed order has its item
    expect(await ordersOf(w.m1)).toEqual({ orders: 4, items: 3 });
  });
});

describe('usage: orders’ part of the fan-out', () => {
  it('counts only the orders inside [currentPeriodStart, currentPeriodEnd), from MerchantSubscription and from Store', async () => {
    const { w, p } = await shop();
    await expectData(placeOrder({ storeId: w.s1, items: [{ productId: p.mug, quantity: 1 }] }, w.tokens.admin));
    await expectData(placeOrder({ storeId: w.s1b, items: [{ productId: p.sibling, quantity: 1 }] }, w.tokens.admin));
    const start = Date.parse(w.period.start);
    await insertOrderAt(w, new Date(start - 1).toISOString()); // just before: not counted
    await insertOrderAt(w, new Date(start).toISOString()); // the first instant: counted
    await insertOrderAt(w, new Date(Date.parse(w.period.end)).toISOString()); // the end is excluded
    await insertOrderAt(w, new Date(start + 1000).toISOString(), w.m1, randomUUID()); // another platform

    const subscriptionRef = (merchantId: string) => ({
      __typename: 'MerchantSubscription',
      merchantId,
      platformId: w.platformId,
      currentPeriodStart: w.period.start,
      currentPeriodEnd: w.period.end,
    });
    const bySubscription = await expectData(orders(ops.subscriptionUsage, { r: [subscriptionRef(w.m1), subscriptionRef(w.m2)] }, w.tokens.service));
    expect(bySubscription._entities).toEqual([
      { merchantId: w.m1, ordersUsage: [{ code: 'max_orders_per_month', current: 3 }] },
      { merchantId: w.m2, ordersUsage: [{ code: 'max_orders_per_month', current: 0 }] },
    ]);

    // from a store the period comes from billing's Store.subscription, handed over by the graph; no subscription counts 0
    const period = { currentPeriodStart: w.period.start, currentPeriodEnd: w.period.end };
    const byStore = await expectData(
      orders(
        ops.storeUsage,
        {
          r: [
            { __typename: 'Store', id: w.s1b, merchantId: w.m1, platformId: w.platformId, subscription: period },
            { __typename: 'Store', id: w.s3, merchantId: w.m3, platformId: w.platformId, subscription: null },
          ],
        },
        w.tokens.admin,
      ),
    );
    expect(byStore._entities).toEqual([
      { id: w.s1b, ordersUsage: [{ code: 'max_orders_per_month', current: 3 }] },
      { id: w.s3, ordersUsage: [{ code: 'max_orders_per_month', current: 0 }] },
    ]);

    const foreign = await orders(ops.subscriptionUsage, { r: [subscriptionRef(w.m1)] }, w.tokens.merchant2);
    expect(errorCodes(foreign)).toEqual(['FORBIDDEN']);
    const otherStore = await orders(ops.storeUsage, { r: [{ __typename: 'Store', id: w.s1, merchantId: w.m1, platformId: w.platformId }] }, w.tokens.store1b);
    expect(errorCodes(otherStore)).toEqual(['FORBIDDEN']);
  });

  it('a count that fails nulls only its own ordersUsage (nullable), not the entity: billing then shows orders’ features unknown', async () => {
    const { w } = await shop();
    const good = { __typename: 'MerchantSubscription', merchantId: w.m1, platformId: w.platformId, currentPeriodStart: w.period.start, currentPeriodEnd: w.period.end };
    const failing = { ...good, merchantId: w.m2, currentPeriodStart: 'not a date' };
    const response = await orders(ops.subscriptionUsage, { r: [good, failing] }, w.tokens.admin);
    expect(response.data?._entities).toEqual([
      { merchantId: w.m1, ordersUsage: [{ code: 'max_orders_per_month', current: expect.any(Number) }] },
      { merchantId: w.m2, ordersUsage: null },
    ]);
    expect(response.errors?.map((e) => e.path)).toEqual([['_entities', 1, 'ordersUsage']]);
  });

  it('answers 50 distinct MerchantSubscription representations with one SELECT', async () => {
    const start = '2024-01-01T00:00:00.000Z';
    const end = '2024-02-01T00:00:00.000Z';
    const pairs = Array.from({ length: 50 }, () => ({ merchantId: randomUUID(), platformId: randomUUID() }));
    for (const [i, pair] of pairs.entries()) {
      for (let n = 0; n < i % 3; n++) {
        await running.orders.dataSource.query(
          `INSERT INTO orders.orders (merchant_id, store_id, platform_id, total_cents, created_at) VALUES ($1, $2, $3, 1, $4)`,
          [pair.merchantId, randomUUID(), pair.platformId, '2024-01-15T00:00:00Z'],
        );
      }
    }
    const admin = await tokenFor({ role: 'admin' });
    // every statement at the pg client: the loaders' prepared statements go straight to the pool
    const { statements, stop: stopRecording } = recordSqlStatements();
    let data;
    try {
      const r = pairs.map((pair) => ({ __typename: 'MerchantSubscription', ...pair, currentPeriodStart: start, currentPeriodEnd: end }));
      data = await expectData(orders(ops.subscriptionUsage, { r }, admin));
    } finally {
      stopRecording();
    }
    expect(data._entities.map((e: { ordersUsage: Array<{ current: number }> }) => e.ordersUsage[0].current)).toEqual(pairs.map((_, i) => i % 3));
    const ordersStatements = statements.filter((sql) => /\borders\.orders\b/.test(sql));
    expect(ordersStatements).toHaveLength(1);
    expect(ordersStatements[0]).toMatch(/^\s*SELECT[\s\S]*FROM unnest\(/);
  });
});

describe('feature declarations', () => {
  it('registers max_orders_per_month with billing’s feature catalog', async () => {
    const data = await expectData(postGraphQL(running.billing.url, { query: setupOps.featureCatalog }, { token: await tokenFor({ role: 'admin' }) }));
    const features = data.featureCatalog.flatMap((c: { features: Array<{ code: string }> }) => c.features);
    expect(features.find((f: { code: string }) => f.code === 'max_orders_per_month')).toEqual({
      code: 'max_orders_per_month',
      name: 'Orders per month',
      description: expect.stringContaining('billing period'),
      featureType: 'QUANTITATIVE',
      scope: 'MERCHANT',
      unit: 'orders',
    });
  });
});

// stops catalog: keep this last
describe('catalog unreachable', () => {
  it('fails closed with a clear error and writes nothing', async () => {
    const { w, p } = await shop();
    await running.catalog.stop();
    const r = await placeOrder({ storeId: w.s1, items: [{ productId: p.mug, quantity: 1 }] }, w.tokens.merchant1);
    expect(errorCodes(r)).toEqual(['CATALOG_UNAVAILABLE']);
    expect(r.data).toBeNull();
    expect(await ordersOf(w.m1)).toEqual({ orders: 0, items: 0 });
  });
});
