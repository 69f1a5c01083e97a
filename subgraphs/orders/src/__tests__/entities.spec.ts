import { randomUUID } from 'node:crypto';
import { repairUsageCounter, type RunningSubgraph } from '@tiergraph/runtime';
import { tenancySubgraph } from '@tiergraph/tenancy';
import { createTenants, createTestDatabase, errorCodes, postGraphQL, startTestSubgraphs, tokenFor, type TestDatabase, type Tenants, platformMetricsOf, PLATFORM_METRICS_ACCESS } from '@tiergraph/testkit';
import { ordersSubgraph, ORDER_COUNTS } from '../index';

const ENTITIES = `query($r: [_Any!]!) {
  _entities(representations: $r) {
    ... on Order { id status totalCents currency createdAt store { id } }
  }
}`;

const ref = (id: string) => ({ __typename: 'Order', id });

describe('orders: the Order entity', () => {
  let db: TestDatabase;
  let running: RunningSubgraph;
  let stopTenancy: (() => Promise<void>) | undefined;
  // real tenants: a store token is accepted only for a store of its merchant (tenancy says which)
  let tenants: Tenants;
  let platformId: string;
  let merchantA: string;
  let merchantB: string;
  let storeA1: string;
  let storeA2: string;
  let storeB: string;
  let first: string;
  let second: string;
  let other: string;

  async function insertOrder(values: { merchantId: string; storeId: string; totalCents: number; status?: string; currency?: string }): Promise<string> {
    const [row]: Array<{ id: string }> = await running.dataSource.query(
      `INSERT INTO orders.orders (merchant_id, store_id, platform_id, status, total_cents, currency, customer_email)
       VALUES ($1, $2, $3, coalesce($4, 'PENDING'), $5, coalesce($6, 'EUR'), 'buyer@example.com') RETURNING id`,
      [values.merchantId, values.storeId, platformId, values.status ?? null, values.totalCents, values.currency ?? null],
    );
    return row.id;
  }

  const resolve = async (ids: string[], token?: string) => postGraphQL(running.url, { query: ENTITIES, variables: { r: ids.map(ref) } }, { token });

  beforeAll(async () => {
    db = await createTestDatabase();
    let tenancy: RunningSubgraph;
    ({ tenancy, orders: running } = await startTestSubgraphs({ tenancy: tenancySubgraph, orders: ordersSubgraph }, db.url));
    stopTenancy = () => tenancy.stop();
    tenants = await createTenants(tenancy.url);
    ({ platformId, m1: merchantA, m2: merchantB, s1: storeA1, s1b: storeA2, s2: storeB } = tenants);
    first = await insertOrder({ merchantId: merchantA, storeId: storeA1, totalCents: 4200 });
    second = await insertOrder({ merchantId: merchantA, storeId: storeA2, totalCents: 999, status: 'PAID', currency: 'USD' });
    other = await insertOrder({ merchantId: merchantB, storeId: storeB, totalCents: 0, status: 'CANCELLED' });
  });

  afterAll(async () => {
    await running?.stop();
    await stopTenancy?.();
    await db?.drop();
  });

  it('lets an admin resolve orders in the order asked, with every field', async () => {
    const res = await resolve([second, first], await tokenFor({ role: 'admin' }));
    expect(res.errors).toBeUndefined();
    expect(res.data?._entities).toEqual([
      { id: second, status: 'PAID', totalCents: 999, currency: 'USD', createdAt: expect.any(String), store: { id: storeA2 } },
      { id: first, status: 'PENDING', totalCents: 4200, currency: 'EUR', createdAt: expect.any(String), store: { id: storeA1 } },
    ]);
  });

  it('lets the owning merchant resolve the orders of all its stores', async () => {
    const res = await resolve([first, second], await tokenFor({ role: 'merchant', merchantId: merchantA }));
    expect(res.errors).toBeUndefined();
    expect(res.data?._entities.map((o: { id: string }) => o.id)).toEqual([first, second]);
  });

  it('refuses another merchant with FORBIDDEN and no data, while resolving its own', async () => {
    const res = await resolve([first, other], await tokenFor({ role: 'merchant', merchantId: merchantB }));
    expect(errorCodes(res)).toEqual(['FORBIDDEN']);
    expect(res.errors?.[0].path).toEqual(['_entities', 0]);
    expect(res.data?._entities[0]).toBeNull();
    expect(res.data?._entities[1]).toMatchObject({ id: other, status: 'CANCELLED' });
  });

  it('lets a store user resolve its own store’s orders only', async () => {
    const res = await resolve([first, second], await tokenFor({ role: 'store', merchantId: merchantA, storeId: storeA1 }));
    expect(errorCodes(res)).toEqual(['FORBIDDEN']);
    expect(res.data?._entities[0]).toMatchObject({ id: first });
    expect(res.data?._entities[1]).toBeNull();
  });

  it('answers NOT_FOUND for an unknown uuid and for an id that is no uuid', async () => {
    const res = await resolve([randomUUID(), '42'], await tokenFor({ role: 'service' }));
    expect(errorCodes(res)).toEqual(['NOT_FOUND', 'NOT_FOUND']);
    expect(res.data?._entities).toEqual([null, null]);
  });

  it('contributes the orders created since a given start to PlatformMetrics, for admins and services only', async () => {
    const old = await insertOrder({ merchantId: merchantB, storeId: storeB, totalCents: 100 });
    await running.dataSource.query(`UPDATE orders.orders SET created_at = '2020-01-31T23:59:59Z' WHERE id = $1`, [old]);
    const { access, figures } = await platformMetricsOf(
      running.url,
      'thisMonth: orderCountSince(since: "2020-02-01T00:00:00Z") all: orderCountSince(since: "2020-01-31T23:59:59Z")',
      { merchant: tenants.tokens.merchant1, store: tenants.tokens.store1 },
    );
    expect(access).toEqual(PLATFORM_METRICS_ACCESS);
    expect(figures).toEqual({ id: 'platform', thisMonth: 3, all: 4 });
    await running.dataSource.query(`DELETE FROM orders.orders WHERE id = $1`, [old]);
  });

  it('counts PlatformMetrics.orderCountSince from the day counter rows (whole days) and the orders of the partial first day', async () => {
    const since = 'orderCountSince(since: "2019-06-01T12:00:00Z")';
    const baseline = (await platformMetricsOf(running.url, since, { merchant: tenants.tokens.merchant1, store: tenants.tokens.store1 })).figures?.orderCountSince as number;
    const placed = await Promise.all(
      ['2019-06-01T11:59:59Z', '2019-06-01T12:00:00Z', '2019-06-01T23:59:59Z', '2019-06-02T00:00:00Z', '2019-07-15T08:00:00Z'].map(async (at) => {
        const id = await insertOrder({ merchantId: merchantB, storeId: storeB, totalCents: 100 });
        await running.dataSource.query(`UPDATE orders.orders SET created_at = $2 WHERE id = $1`, [id, at]);
        return id;
      }),
    );
    try {
      expect((await platformMetricsOf(running.url, since, { merchant: tenants.tokens.merchant1, store: tenants.tokens.store1 })).figures?.orderCountSince).toBe(baseline + 4);
      // a whole day is its counter row: a counter that says 10 more is read as 10 more (a scan of the orders would not be)
      await running.dataSource.query(`UPDATE orders.order_counts SET n = n + 10 WHERE merchant_id = $1 AND day = '2019-07-15'`, [merchantB]);
      expect((await platformMetricsOf(running.url, since, { merchant: tenants.tokens.merchant1, store: tenants.tokens.store1 })).figures?.orderCountSince).toBe(baseline + 14);
    } finally {
      await running.dataSource.query(`DELETE FROM orders.orders WHERE id = ANY($1)`, [placed]);
      await repairUsageCounter(running.dataSource, ORDER_COUNTS);
    }
  });

  it('answers UNAUTHENTICATED (401) without a token', async () => {
    const res = await resolve([first]);
    expect(res.status).toBe(401);
    expect(errorCodes(res)).toEqual(['UNAUTHENTICATED']);
  });

  it('keeps statuses, totals and items valid', async () => {
    await expect(insertOrder({ merchantId: merchantA, storeId: storeA1, totalCents: 1, status: 'SHIPPED' })).rejects.toMatchObject({
      constraint: 'orders_status_check',
    });
    await expect(insertOrder({ merchantId: merchantA, storeId: storeA1, totalCents: -1 })).rejects.toMatchObject({
      constraint: 'orders_total_cents_check',
    });
    const item = `INSERT INTO orders.order_items (order_id, product_id, quantity, unit_price_cents) VALUES ($1, $2, $3, 100)`;
    await running.dataSource.query(item, [first, randomUUID(), 2]);
    await expect(running.dataSource.query(item, [first, randomUUID(), 0])).rejects.toMatchObject({ constraint: 'order_items_quantity_check' });
    await expect(running.dataSource.query(item, [randomUUID(), randomUUID(), 1])).rejects.toMatchObject({ code: '23503' });
  });
});
