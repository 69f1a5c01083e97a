import type { RunningSubgraph } from '@tiergraph/runtime';
import { tenancySubgraph } from '@tiergraph/tenancy';
import { catalogFeatures } from '@tiergraph/catalog';
import { ordersFeatures } from '@tiergraph/orders';
import { createTestDatabase, createWorld, entityAccessTable, registerDeclarations, startTestSubgraphs, type TestDatabase, type World } from '@tiergraph/testkit';
import { billingSubgraph } from '../index';

/**
 * Billing's own authorisation of `_entities`: representations sent straight to billing, bypassing the gateway
 * and tenancy (which would refuse first through the graph), for a subscription of merchant 1.
 */
let db: TestDatabase;
let running: Record<'billing' | 'tenancy', RunningSubgraph>;
let w: World;

const usage = { catalogUsage: [{ code: 'max_products', current: 3 }], ordersUsage: [], tenancyUsage: [], mediaUsage: [] };

beforeAll(async () => {
  db = await createTestDatabase();
  // unsigned (no SUBGRAPH_HMAC_SECRET, as in development): billing's own checks, which hold without the signature too
  running = await startTestSubgraphs({ billing: billingSubgraph, tenancy: tenancySubgraph }, db.url, { signatureSecret: null });
  w = await createWorld({ tenancy: running.tenancy.url, billing: running.billing.url });
});

afterAll(async () => {
  await Promise.all(Object.values(running ?? {}).map((s) => s.stop()));
  await db?.drop();
});

const callers = () => ({
  admin: w.tokens.admin,
  service: w.tokens.service,
  merchant1: w.tokens.merchant1,
  store1: w.tokens.store1,
  merchant2: w.tokens.merchant2,
  store2: w.tokens.store2,
});

it('Merchant and MerchantSubscription (both keys): the own tenant, admins and services read; another tenant gets FORBIDDEN and no data', async () => {
  const [{ id: subscriptionId }] = await running.billing.dataSource.query(`SELECT id FROM billing.merchant_subscriptions WHERE merchant_id = $1`, [w.m1]);
  const subscriptionFields = 'id merchantId status tier { code } history { change } features { code limit current }';
  const table = await entityAccessTable(
    running.billing.url,
    {
      'Merchant.subscription': {
        selection: `... on Merchant { id subscription(platformId: "${w.platformId}") { id status features { code } } }`,
        representation: { __typename: 'Merchant', id: w.m1 },
      },
      'MerchantSubscription by id': {
        selection: `... on MerchantSubscription { ${subscriptionFields} }`,
        representation: { __typename: 'MerchantSubscription', id: subscriptionId, ...usage },
      },
      'MerchantSubscription by merchantId platformId': {
        selection: `... on MerchantSubscription { ${subscriptionFields} }`,
        representation: { __typename: 'MerchantSubscription', merchantId: w.m1, platformId: w.platformId, ...usage },
      },
    },
    callers(),
  );
  const expected = { admin: 'ok', service: 'ok', merchant1: 'ok', store1: 'ok', merchant2: 'FORBIDDEN', store2: 'FORBIDDEN' };
  expect(table).toEqual({
    'Merchant.subscription': expected,
    'MerchantSubscription by id': expected,
    'MerchantSubscription by merchantId platformId': expected,
  });
});

it('Store: only the store’s users, its merchant, admins and services read its plan; a sibling store’s user and other tenants get FORBIDDEN', async () => {
  const store = { __typename: 'Store', id: w.s1, merchantId: w.m1, platformId: w.platformId, ...usage };
  const table = await entityAccessTable(
    running.billing.url,
    {
      'Store.subscription': { selection: '... on Store { subscription { id status } }', representation: store },
      'Store.usage': { selection: '... on Store { usage { code current limit } }', representation: store },
      'Store.hasFeature': { selection: '... on Store { hasFeature(code: "basic_support") }', representation: store },
      'Store.invoices': { selection: '... on Store { invoices { id } }', representation: store },
      'Store.usageInsights': { selection: '... on Store { usageInsights(featureCode: "ai_tokens_per_month") { used allocated daily { date } } }', representation: store },
      'Store.usageHistory': { selection: '... on Store { usageHistory(featureCode: "ai_tokens_per_month") { used } }', representation: store },
    },
    { ...callers(), store1b: w.tokens.store1b },
  );
  const expected = { admin: 'ok', service: 'ok', merchant1: 'ok', store1: 'ok', merchant2: 'FORBIDDEN', store2: 'FORBIDDEN', store1b: 'FORBIDDEN' };
  expect(table).toEqual({
    'Store.subscription': expected,
    'Store.usage': expected,
    'Store.hasFeature': expected,
    'Store.invoices': expected,
    'Store.usageInsights': expected,
    // no closed period yet: an empty list, which the table reads as 'ok' (no error) for the allowed callers
    'Store.usageHistory': expected,
  });
});

it('tenancyUsage: tenancy shows a merchant’s team count only to that merchant, its stores’ users, admins and services', async () => {
  const table = await entityAccessTable(
    running.tenancy.url,
    {
      'MerchantSubscription.tenancyUsage': {
        selection: '... on MerchantSubscription { tenancyUsage { code current } }',
        representation: { __typename: 'MerchantSubscription', merchantId: w.m1, platformId: w.platformId },
      },
      'Store.tenancyUsage': { selection: '... on Store { tenancyUsage { code current } }', representation: { __typename: 'Store', id: w.s1 } },
    },
    callers(),
  );
  expect(table).toEqual({
    'MerchantSubscription.tenancyUsage': { admin: 'ok', service: 'ok', merchant1: 'ok', store1: 'ok', merchant2: 'FORBIDDEN', store2: 'FORBIDDEN' },
    'Store.tenancyUsage': { admin: 'ok', service: 'ok', merchant1: 'ok', store1: 'ok', merchant2: 'FORBIDDEN', store2: 'FORBIDDEN' },
  });
});

describe('usage handed over in a representation is checked (a direct caller could forge @requires data)', () => {
  // the owners of the counted features, as they register at their start
  beforeAll(async () => {
    await registerDeclarations(running.billing.url, 'catalog', catalogFeatures);
    await registerDeclarations(running.billing.url, 'orders', ordersFeatures);
  });

  it.each([
    ['a negative count', { catalogUsage: [{ code: 'max_products', current: -2000 }] }, 'catalogUsage'],
    ['a fractional count', { ordersUsage: [{ code: 'max_orders_per_month', current: 1.5 }] }, 'ordersUsage'],
    ['a count of a feature another subgraph owns', { catalogUsage: [{ code: 'max_orders_per_month', current: 1 }] }, 'catalogUsage'],
  ])('%s: BAD_USER_INPUT naming the field, for every caller', async (_case, forged, field) => {
    const response = await fetch(running.billing.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${w.tokens.merchant1}` },
      body: JSON.stringify({
        query: 'query($r: [_Any!]!) { _entities(representations: $r) { ... on MerchantSubscription { features { code current percentUsed } } } }',
        variables: { r: [{ __typename: 'MerchantSubscription', merchantId: w.m1, platformId: w.platformId, ...usage, ...forged }] },
      }),
    });
    const body = (await response.json()) as { data?: { _entities: unknown[] }; errors?: Array<{ extensions?: { code?: string; field?: string } }> };
    expect(body.errors?.map((e) => [e.extensions?.code, e.extensions?.field])).toEqual([['BAD_USER_INPUT', field]]);
    expect(body.data?._entities[0] ?? null).toBeNull();
  });

  it('what the owners really count is taken as it is', async () => {
    const response = await fetch(running.billing.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${w.tokens.merchant1}` },
      body: JSON.stringify({
        query: 'query($r: [_Any!]!) { _entities(representations: $r) { ... on MerchantSubscription { features { code current } } } }',
        variables: { r: [{ __typename: 'MerchantSubscription', merchantId: w.m1, platformId: w.platformId, ...usage }] },
      }),
    });
    const body = (await response.json()) as { data: { _entities: Array<{ features: Array<{ code: string; current: number | null }> }> } };
    expect(body.data._entities[0].features.find((f) => f.code === 'max_products')?.current).toBe(3);
  });

  it('a null contribution (its contributor failed) makes only that owner’s features unknown; the subscription answers', async () => {
    const response = await fetch(running.billing.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${w.tokens.merchant1}` },
      body: JSON.stringify({
        query:
          'query($r: [_Any!]!) { _entities(representations: $r) { ... on MerchantSubscription { status tier { code } features { code limit current remaining percentUsed usageKnown usageUnavailableReason } } } }',
        variables: { r: [{ __typename: 'MerchantSubscription', merchantId: w.m1, platformId: w.platformId, ...usage, ordersUsage: null }] },
      }),
    });
    type Feature = { code: string; limit: number | null; current: number | null; remaining: number | null; percentUsed: number | null; usageKnown: boolean; usageUnavailableReason: string | null };
    const body = (await response.json()) as { data: { _entities: Array<{ status: string; tier: { code: string }; features: Feature[] }> }; errors?: unknown };
    expect(body.errors).toBeUndefined();
    const [subscription] = body.data._entities;
    expect(subscription.tier.code).toEqual(expect.any(String));
    const orders = subscription.features.find((f) => f.code === 'max_orders_per_month')!;
    expect(orders).toMatchObject({ current: null, remaining: null, percentUsed: null, usageKnown: false, usageUnavailableReason: expect.stringMatching(/^the orders service/) });
    expect(orders).toHaveProperty('limit');
    expect(subscription.features.find((f) => f.code === 'max_products')).toMatchObject({ current: 3, usageKnown: true, usageUnavailableReason: null });
    expect(subscription.features.filter((f) => !f.usageKnown).map((f) => f.code)).toEqual(ordersFeatures.filter((f) => f.featureType === 'QUANTITATIVE' && (f.measurement ?? 'COMPUTED') === 'COMPUTED').map((f) => f.code));
  });
});
