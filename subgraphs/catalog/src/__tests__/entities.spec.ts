import { randomUUID } from 'node:crypto';
import type { RunningSubgraph } from '@tiergraph/runtime';
import { tenancySubgraph } from '@tiergraph/tenancy';
import { createTenants, createTestDatabase, errorCodes, postGraphQL, startTestSubgraphs, tokenFor, type TestDatabase, type Tenants, platformMetricsOf, PLATFORM_METRICS_ACCESS } from '@tiergraph/testkit';
import { catalogSubgraph } from '../index';

const ENTITIES = `query($r: [_Any!]!) {
  _entities(representations: $r) {
    ... on Product { id sku name priceCents currency isActive createdAt store { id } }
  }
}`;

const ref = (id: string) => ({ __typename: 'Product', id });

describe('catalog: the Product entity', () => {
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
  let mug: string;
  let tee: string;
  let cap: string;

  async function insertProduct(values: { merchantId: string; storeId: string; sku: string; name: string; priceCents: number; currency?: string; isActive?: boolean }): Promise<string> {
    const [row]: Array<{ id: string }> = await running.dataSource.query(
      `INSERT INTO catalog.products (merchant_id, store_id, platform_id, sku, name, price_cents, currency, is_active)
       VALUES ($1, $2, $3, $4, $5, $6, coalesce($7, 'EUR'), coalesce($8, true)) RETURNING id`,
      [values.merchantId, values.storeId, platformId, values.sku, values.name, values.priceCents, values.currency ?? null, values.isActive ?? null],
    );
    return row.id;
  }

  const resolve = async (ids: string[], token?: string) => postGraphQL(running.url, { query: ENTITIES, variables: { r: ids.map(ref) } }, { token });

  beforeAll(async () => {
    db = await createTestDatabase();
    let tenancy: RunningSubgraph;
    ({ tenancy, catalog: running } = await startTestSubgraphs({ tenancy: tenancySubgraph, catalog: catalogSubgraph }, db.url));
    stopTenancy = () => tenancy.stop();
    tenants = await createTenants(tenancy.url);
    ({ platformId, m1: merchantA, m2: merchantB, s1: storeA1, s1b: storeA2, s2: storeB } = tenants);
    mug = await insertProduct({ merchantId: merchantA, storeId: storeA1, sku: 'MUG-1', name: 'Mug', priceCents: 1299 });
    tee = await insertProduct({ merchantId: merchantA, storeId: storeA2, sku: 'TEE-1', name: 'Tee', priceCents: 2500, currency: 'USD', isActive: false });
    cap = await insertProduct({ merchantId: merchantB, storeId: storeB, sku: 'MUG-1', name: 'Cap', priceCents: 0 });
  });

  afterAll(async () => {
    await running?.stop();
    await stopTenancy?.();
    await db?.drop();
  });

  it('lets an admin resolve products in the order asked, with every field', async () => {
    const res = await resolve([tee, mug], await tokenFor({ role: 'admin' }));
    expect(res.errors).toBeUndefined();
    expect(res.data?._entities).toEqual([
      { id: tee, sku: 'TEE-1', name: 'Tee', priceCents: 2500, currency: 'USD', isActive: false, createdAt: expect.any(String), store: { id: storeA2 } },
      { id: mug, sku: 'MUG-1', name: 'Mug', priceCents: 1299, currency: 'EUR', isActive: true, createdAt: expect.any(String), store: { id: storeA1 } },
    ]);
    expect(Number.isNaN(Date.parse(res.data?._entities[0].createdAt))).toBe(false);
  });

  it('lets a service resolve any tenant’s product', async () => {
    const res = await resolve([cap], await tokenFor({ role: 'service' }));
    expect(res.errors).toBeUndefined();
    expect(res.data?._entities[0]).toMatchObject({ id: cap, store: { id: storeB } });
  });

  it('lets the owning merchant resolve the products of all its stores', async () => {
    const res = await resolve([mug, tee], await tokenFor({ role: 'merchant', merchantId: merchantA }));
    expect(res.errors).toBeUndefined();
    expect(res.data?._entities.map((p: { id: string }) => p.id)).toEqual([mug, tee]);
  });

  it('refuses another merchant with FORBIDDEN and no data, while resolving its own', async () => {
    const res = await resolve([mug, cap], await tokenFor({ role: 'merchant', merchantId: merchantB }));
    expect(errorCodes(res)).toEqual(['FORBIDDEN']);
    expect(res.errors?.[0].path).toEqual(['_entities', 0]);
    expect(res.data?._entities[0]).toBeNull();
    expect(res.data?._entities[1]).toMatchObject({ id: cap, sku: 'MUG-1' });
  });

  it('lets a store user resolve its own store’s products only', async () => {
    const res = await resolve([mug, tee], await tokenFor({ role: 'store', merchantId: merchantA, storeId: storeA1 }));
    expect(errorCodes(res)).toEqual(['FORBIDDEN']);
    expect(res.data?._entities[0]).toMatchObject({ id: mug });
    expect(res.data?._entities[1]).toBeNull();
  });

  it('answers NOT_FOUND for an unknown uuid and for an id that is no uuid', async () => {
    const res = await resolve([randomUUID(), 'not-a-uuid'], await tokenFor({ role: 'admin' }));
    expect(errorCodes(res)).toEqual(['NOT_FOUND', 'NOT_FOUND']);
    expect(res.data?._entities).toEqual([null, null]);
  });

  it('contributes the products that are not deleted to PlatformMetrics, for admins and services only', async () => {
    await running.dataSource.query(`UPDATE catalog.products SET deleted_at = now() WHERE id = $1`, [cap]);
    const { access, figures } = await platformMetricsOf(running.url, 'productCount', { merchant: tenants.tokens.merchant1, store: tenants.tokens.store1 });
    expect(access).toEqual(PLATFORM_METRICS_ACCESS);
    // mug and the deactivated tee count; the deleted cap does not
    expect(figures).toEqual({ id: 'platform', productCount: 2 });
    await running.dataSource.query(`UPDATE catalog.products SET deleted_at = NULL WHERE id = $1`, [cap]);
  });

  it('answers UNAUTHENTICATED (401) without a token', async () => {
    const res = await resolve([mug]);
    expect(res.status).toBe(401);
    expect(errorCodes(res)).toEqual(['UNAUTHENTICATED']);
    expect(res.data ?? null).toBeNull();
  });

  it('keeps a sku unique per store, prices non-negative and currencies well-formed', async () => {
    await expect(insertProduct({ merchantId: merchantA, storeId: storeA1, sku: 'MUG-1', name: 'Again', priceCents: 1 })).rejects.toMatchObject({
      constraint: 'products_store_sku_key',
    });
    await expect(insertProduct({ merchantId: merchantA, storeId: storeA1, sku: 'NEG', name: 'Neg', priceCents: -1 })).rejects.toMatchObject({
      constraint: 'products_price_cents_check',
    });
    await expect(insertProduct({ merchantId: merchantA, storeId: storeA1, sku: 'LOW', name: 'Low', priceCents: 1, currency: 'eur' })).rejects.toMatchObject({
      constraint: 'products_currency_check',
    });
  });
});
