import { randomUUID } from 'node:crypto';
import { entityAccessTable, errorCodes, tokenFor } from '@tiergraph/testkit';
import { startTestGraph, type TestGraph, contractCaller } from './graph';

let graph: TestGraph;
let admin: string;

const { send, ok } = contractCaller(() => graph, () => admin);

type Feature = { code: string; enabled: boolean; limit: number | null; current: number | null; remaining: number | null; percentUsed: number | null; isOverride: boolean };
const byCode = <T extends { code: string }>(list: T[]) => Object.fromEntries(list.map((f) => [f.code, f]));

/** A merchant on a platform with two stores, on the professional plan, with products, orders and a team. */
async function merchantWithUsage() {
  const n = randomUUID().slice(0, 8);
  const platform = (await ok('CreatePlatform', { input: { code: `p-${n}`, name: 'P' } })).createPlatform;
  const merchant = (await ok('CreateMerchant', { input: { name: `Acme ${n}`, email: `acme-${n}@example.com` } })).createMerchant;
  const store1 = (await ok('CreateStore', { input: { merchantId: merchant.id, platformId: platform.id, code: 'one', name: 'One' } })).createStore;
  const store2 = (await ok('CreateStore', { input: { merchantId: merchant.id, platformId: platform.id, code: 'two', name: 'Two' } })).createStore;
  await ok('UpdateMerchantSubscription', { merchantId: merchant.id, platformId: platform.id, input: { tierCode: 'professional', reason: 'signed up' } });
  const storeToken = await tokenFor({ role: 'store', merchantId: merchant.id, storeId: store1.id });
  const products = [];
  for (const [i, store] of [store1, store1, store1, store2, store2].entries()) {
    const token = store.id === store1.id ? storeToken : admin;
    products.push((await ok('CreateProduct', { input: { storeId: store.id, sku: `SKU-${i}`, name: `Product ${i}`, priceCents: 1000 + i } }, token)).createProduct);
  }
  await ok('PlaceOrder', { input: { storeId: store1.id, items: [{ productId: products[0].id, quantity: 2 }, { productId: products[1].id, quantity: 1 }] } }, storeToken);
  await ok('PlaceOrder', { input: { storeId: store2.id, items: [{ productId: products[3].id, quantity: 1 }] } });
  await ok('AddStoreUser', { input: { storeId: store1.id, email: 'owner@acme.test', role: 'OWNER' } });
  await ok('AddStoreUser', { input: { storeId: store1.id, email: 'm1@acme.test', role: 'MEMBER' } });
  await ok('AddStoreUser', { input: { storeId: store2.id, email: 'm2@acme.test', role: 'MEMBER' } });
  return { platform, merchant, store1, store2, products, storeToken, merchantToken: await tokenFor({ role: 'merchant', merchantId: merchant.id }) };
}

beforeAll(async () => {
  graph = await startTestGraph();
  admin = await tokenFor({ role: 'admin' });
});

afterAll(async () => {
  await graph?.stop();
});

describe('FeatureSummary by federated fan-out', () => {
  it('MerchantFeatures: every declared feature, usage contributed by catalog, orders, tenancy and media, limits from the tier', async () => {
    const w = await merchantWithUsage();
    // media as the media subgraph counts it: the merchant's files on the platform, in MiB rounded up (3 MiB + 1 byte → 4)
    for (const [store, size] of [[w.store1, 2 * 1024 * 1024], [w.store2, 1024 * 1024 + 1]] as const) {
      await graph.subgraphs.media.dataSource.query(
        `INSERT INTO media.media_files (merchant_id, store_id, platform_id, filename, mime_type, size_bytes, storage_key, stored_bytes) VALUES ($1, $2, $3, 'f.png', 'image/png', $4, $5, $4)`,
        [w.merchant.id, store.id, w.platform.id, size, `${store.id}/${randomUUID()}`],
      );
    }
    const { merchant } = await ok('MerchantFeatures', { merchantId: w.merchant.id, platformId: w.platform.id }, w.merchantToken);
    const sub = merchant.subscription;
    expect(sub).toMatchObject({ status: 'ACTIVE', billingCycle: 'MONTHLY', tier: { code: 'professional', name: 'Professional' }, cancelAtPeriodEnd: false });
    // the period follows the monthly cycle from the subscription's start
    const start = new Date(sub.currentPeriodStart);
    const end = new Date(sub.currentPeriodEnd);
    expect(end.getUTCMonth()).toBe((start.getUTCMonth() + 1) % 12);
    expect(sub.history).toEqual([{ fromTierCode: null, toTierCode: 'professional', change: 'CREATED', reason: 'signed up', changedAt: expect.any(String) }]);

    const features = byCode<Feature & { category: string; featureType: string; scope: string }>(sub.features);
    expect(Object.keys(features).sort()).toEqual(
      ['ai_tokens_per_month', 'analytics_dashboard', 'api_access', 'basic_analytics', 'basic_support', 'max_orders_per_month', 'max_products', 'max_storage_mb', 'max_team_members', 'priority_support', 'white_label'].sort(),
    );
    const pick = ({ enabled, limit, current, remaining, percentUsed, isOverride }: Feature) => ({ enabled, limit, current, remaining, percentUsed, isOverride });
    expect(pick(features.max_products)).toEqual({ enabled: true, limit: 500, current: 5, remaining: 495, percentUsed: 1, isOverride: false });
    expect(pick(features.max_orders_per_month)).toEqual({ enabled: true, limit: 500, current: 2, remaining: 498, percentUsed: 0.4, isOverride: false });
    expect(pick(features.max_team_members)).toEqual({ enabled: true, limit: 3, current: 2, remaining: 1, percentUsed: 66.67, isOverride: false });
    expect(pick(features.max_storage_mb)).toEqual({ enabled: true, limit: 5120, current: 4, remaining: 5116, percentUsed: 0.08, isOverride: false });
    expect(pick(features.ai_tokens_per_month)).toEqual({ enabled: true, limit: 500000, current: 0, remaining: 500000, percentUsed: 0, isOverride: false });
    expect(pick(features.analytics_dashboard)).toEqual({ enabled: true, limit: null, current: null, remaining: null, percentUsed: null, isOverride: false });
    expect(pick(features.api_access)).toMatchObject({ enabled: false, isOverride: false });
    expect(features.max_products).toMatchObject({ category: 'limits', featureType: 'QUANTITATIVE', scope: 'MERCHANT', unit: 'products' });
  });

  it('an override beats the tier at once, everywhere: summary, meters, HasFeature and enforcement', async () => {
    const w = await merchantWithUsage();
    expect((await ok('HasFeature', { storeId: w.store1.id, featureCode: 'api_access' }, w.storeToken)).store.hasFeature).toBe(false);
    // prime every cache with the tier's values first
    await ok('CreateProduct', { input: { storeId: w.store1.id, sku: 'PRIME', name: 'Prime', priceCents: 1 } }, w.storeToken);

    await ok('SetMerchantFeatureOverrides', {
      merchantId: w.merchant.id,
      platformId: w.platform.id,
      overrides: [
        { featureCode: 'max_products', limitValue: 6, isEnabled: true },
        { featureCode: 'api_access', limitValue: null, isEnabled: true },
      ],
    });
    expect((await ok('HasFeature', { storeId: w.store1.id, featureCode: 'api_access' }, w.storeToken)).store.hasFeature).toBe(true);
    const { merchant } = await ok('MerchantFeatures', { merchantId: w.merchant.id, platformId: w.platform.id });
    expect(byCode<Feature>(merchant.subscription.features).max_products).toMatchObject({ limit: 6, current: 6, remaining: 0, percentUsed: 100, isOverride: true });
    const refused = await send('CreateProduct', { input: { storeId: w.store2.id, sku: 'ONE-TOO-MANY', name: 'x', priceCents: 1 } }, w.merchantToken);
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'FEATURE_LIMIT_REACHED', featureCode: 'max_products', current: 6, limit: 6 });

    const billing = await ok('StoreBilling', { storeId: w.store1.id }, w.storeToken);
    expect(byCode<any>(billing.store.usage).max_products).toEqual({
      code: 'max_products', name: 'Products', current: 6, limit: 6, percentage: 100, isUnlimited: false, isAtLimit: true, isApproachingLimit: true,
    });

    // removing the overrides (upsert with an empty list) restores the tier
    await ok('SetMerchantFeatureOverrides', { merchantId: w.merchant.id, platformId: w.platform.id, overrides: [] });
    expect((await ok('HasFeature', { storeId: w.store1.id, featureCode: 'api_access' }, w.storeToken)).store.hasFeature).toBe(false);
    await ok('CreateProduct', { input: { storeId: w.store2.id, sku: 'NOW-FITS', name: 'x', priceCents: 1 } }, w.merchantToken);
  });

  it('StoreBilling: the store’s plan, meters flagged at 80 % and 100 %, unlimited meters, add-on products', async () => {
    const w = await merchantWithUsage();
    await ok('UpdateMerchantSubscription', { merchantId: w.merchant.id, platformId: w.platform.id, input: { tierCode: 'enterprise' } });
    await ok('SetMerchantFeatureOverrides', {
      merchantId: w.merchant.id,
      platformId: w.platform.id,
      overrides: [{ featureCode: 'max_orders_per_month', limitValue: 2, isEnabled: true }, { featureCode: 'max_team_members', limitValue: 2, isEnabled: true }],
    });
    const { store, addOnProducts } = await ok('StoreBilling', { storeId: w.store2.id }, w.merchantToken);
    expect(store.subscription).toMatchObject({ status: 'ACTIVE', tier: { code: 'enterprise', name: 'Enterprise', priceMonthlyCents: 39900 } });
    const usage = byCode<any>(store.usage);
    expect(usage.max_products).toMatchObject({ current: 5, limit: null, percentage: 0, isUnlimited: true, isAtLimit: false, isApproachingLimit: false });
    expect(usage.max_orders_per_month).toMatchObject({ current: 2, limit: 2, percentage: 100, isAtLimit: true });
    expect(usage.max_team_members).toMatchObject({ current: 2, limit: 2, isAtLimit: true, isApproachingLimit: true });
    expect(store.invoices).toEqual([]);
    expect(store.addOns).toEqual([]);
    expect(addOnProducts.map((a: { code: string; priceCents: number; billingPeriod: string }) => [a.code, a.priceCents, a.billingPeriod])).toEqual([
      ['domain', 1500, 'ANNUAL'],
      ['ssl_premium', 4900, 'ANNUAL'],
      ['email_5', 500, 'MONTHLY'],
      ['email_10', 900, 'MONTHLY'],
      ['email_25', 1900, 'MONTHLY'],
    ]);
  });

  it('history records tier and status changes; an inactive subscription refuses creation and disables features', async () => {
    const w = await merchantWithUsage();
    await ok('UpdateMerchantSubscription', { merchantId: w.merchant.id, platformId: w.platform.id, input: { tierCode: 'business', reason: 'growing' } });
    await ok('UpdateMerchantSubscription', { merchantId: w.merchant.id, platformId: w.platform.id, input: { tierCode: 'essential' } });
    await ok('UpdateMerchantSubscription', { merchantId: w.merchant.id, platformId: w.platform.id, input: { status: 'CANCELLED', reason: 'closing' } });
    const { merchant } = await ok('MerchantFeatures', { merchantId: w.merchant.id, platformId: w.platform.id }, w.merchantToken);
    expect(merchant.subscription.history.map((h: any) => [h.change, h.fromTierCode, h.toTierCode, h.reason])).toEqual([
      ['STATUS_CHANGE', null, null, 'closing'],
      ['DOWNGRADE', 'business', 'essential', null],
      ['UPGRADE', 'professional', 'business', 'growing'],
      ['CREATED', null, 'professional', 'signed up'],
    ]);
    expect(merchant.subscription.status).toBe('CANCELLED');
    // every declared feature is listed, and each one is off (an empty list would make `every` true)
    const features: Feature[] = merchant.subscription.features;
    expect(features.map((f) => f.code).sort()).toEqual(
      ['ai_tokens_per_month', 'analytics_dashboard', 'api_access', 'basic_analytics', 'basic_support', 'max_orders_per_month', 'max_products', 'max_storage_mb', 'max_team_members', 'priority_support', 'white_label'].sort(),
    );
    expect(features.filter((f) => f.enabled).map((f) => f.code)).toEqual([]);
    const refused = await send('CreateProduct', { input: { storeId: w.store1.id, sku: 'NO', name: 'x', priceCents: 1 } }, w.storeToken);
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'SUBSCRIPTION_INACTIVE', status: 'CANCELLED' });
    const order = await send('PlaceOrder', { input: { storeId: w.store1.id, items: [{ productId: w.products[0].id, quantity: 1 }] } }, w.storeToken);
    expect(errorCodes(order)).toEqual(['SUBSCRIPTION_INACTIVE']);
  });

  it('denies other tenants: a merchant cannot read another merchant’s features or store billing, through the gateway or straight at billing', async () => {
    const a = await merchantWithUsage();
    const b = await merchantWithUsage();
    // exactly FORBIDDEN, and the tenant's root field null: a FORBIDDEN beside leaked data fails
    const refused = async (operation: string, root: string, variables: Record<string, unknown>, token: string) => {
      const response = await send(operation, variables, token);
      return { operation, codes: errorCodes(response), [root]: response.data?.[root] ?? null };
    };
    expect(await refused('MerchantFeatures', 'merchant', { merchantId: a.merchant.id, platformId: a.platform.id }, b.merchantToken)).toEqual({
      operation: 'MerchantFeatures', codes: ['FORBIDDEN'], merchant: null,
    });
    expect(await refused('StoreBilling', 'store', { storeId: a.store1.id }, b.merchantToken)).toEqual({ operation: 'StoreBilling', codes: ['FORBIDDEN'], store: null });
    expect(await refused('HasFeature', 'store', { storeId: a.store2.id, featureCode: 'api_access' }, a.storeToken)).toEqual({ operation: 'HasFeature', codes: ['FORBIDDEN'], store: null });
    for (const [op, root] of [['SubscriptionStats', 'subscriptionStats'], ['SubscriptionTiers', 'subscriptionTiers'], ['FeatureCatalog', 'featureCatalog']]) {
      expect(await refused(op, root, {}, a.merchantToken)).toEqual({ operation: op, codes: ['FORBIDDEN'], [root]: null });
    }
    // through the gateway tenancy refuses first: billing's own check, for representations sent straight to it
    const usage = { catalogUsage: [], ordersUsage: [], tenancyUsage: [], mediaUsage: [] };
    const table = await entityAccessTable(
      graph.subgraphs.billing.url,
      {
        Merchant: { selection: `... on Merchant { subscription(platformId: "${a.platform.id}") { id status } }`, representation: { __typename: 'Merchant', id: a.merchant.id } },
        MerchantSubscription: {
          selection: '... on MerchantSubscription { id status features { code current } }',
          representation: { __typename: 'MerchantSubscription', merchantId: a.merchant.id, platformId: a.platform.id, ...usage },
        },
        Store: {
          selection: '... on Store { subscription { id } usage { code current } }',
          representation: { __typename: 'Store', id: a.store1.id, merchantId: a.merchant.id, platformId: a.platform.id, ...usage },
        },
      },
      { owner: a.merchantToken, otherMerchant: b.merchantToken, otherStore: b.storeToken },
    );
    const expected = { owner: 'ok', otherMerchant: 'FORBIDDEN', otherStore: 'FORBIDDEN' };
    // Store: each of the two fields refuses on its own
    expect(table).toEqual({ Merchant: expected, MerchantSubscription: expected, Store: { owner: 'ok', otherMerchant: 'FORBIDDEN,FORBIDDEN', otherStore: 'FORBIDDEN,FORBIDDEN' } });
  });
});

describe('without Stripe', () => {
  it('answers PAYMENT_SYSTEM_NOT_CONFIGURED for the Stripe-backed operations and keeps the rest of the graph working', async () => {
    const w = await merchantWithUsage();
    const attempts: Array<[string, Record<string, unknown>]> = [
      ['CreateCheckoutSession', { storeId: w.store1.id, tierCode: 'business', billingCycle: 'MONTHLY' }],
      ['CreatePortalSession', { storeId: w.store1.id }],
      ['ChangeSubscriptionTier', { storeId: w.store1.id, tierCode: 'business' }],
      ['CancelSubscription', { storeId: w.store1.id }],
      ['ReactivateSubscription', { storeId: w.store1.id }],
      ['PurchaseAddOn', { storeId: w.store1.id, addOnCode: 'domain', domainName: 'shop.example.com' }],
    ];
    for (const [operation, variables] of attempts) {
      expect([operation, errorCodes(await send(operation, variables, w.merchantToken))]).toEqual([operation, ['PAYMENT_SYSTEM_NOT_CONFIGURED']]);
    }
    expect((await ok('UpcomingInvoice', { storeId: w.store1.id }, w.merchantToken)).store.upcomingInvoice).toBeNull();
    expect((await ok('StoreBilling', { storeId: w.store1.id }, w.merchantToken)).store.subscription.status).toBe('ACTIVE');
  });
});

describe('admin', () => {
  it('AdminSubscriptions: filter by status, tier and merchant name, paginate, with features per row', async () => {
    const w = await merchantWithUsage();
    const name = w.merchant.name as string;
    const search = await ok('AdminSubscriptions', { first: 10, filter: { search: name.toUpperCase().slice(2), tierCode: 'professional', status: 'ACTIVE' } });
    expect(search.merchantSubscriptions.totalCount).toBe(1);
    const row = search.merchantSubscriptions.edges[0].node;
    expect(row).toMatchObject({ status: 'ACTIVE', merchant: { id: w.merchant.id, name }, platform: { id: w.platform.id, code: w.platform.code }, tier: { code: 'professional' } });
    expect(byCode<any>(row.features).max_products).toMatchObject({ current: 5, limit: 500 });

    const none = await ok('AdminSubscriptions', { first: 10, filter: { search: name, tierCode: 'enterprise' } });
    expect(none.merchantSubscriptions.totalCount).toBe(0);

    // pages of 2 walk every subscription once
    const total = (await ok('AdminSubscriptions', { first: 1000 })).merchantSubscriptions.totalCount;
    const seen: string[] = [];
    let after: string | null = null;
    do {
      const page: any = (await ok('AdminSubscriptions', { first: 2, after })).merchantSubscriptions;
      seen.push(...page.edges.map((e: any) => e.node.id));
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
    } while (after);
    expect(seen.length).toBe(total);
    expect(new Set(seen).size).toBe(total);
  });

  it('SubscriptionTiers lists the seeded reference tiers with the capacity-planning limits', async () => {
    const { subscriptionTiers } = await ok('SubscriptionTiers', {});
    const seeded = byCode<any>(subscriptionTiers);
    const limit = (tier: string, code: string) => seeded[tier].featureLimits.find((l: any) => l.featureCode === code)?.limitValue;
    expect(['essential', 'professional', 'business', 'enterprise'].map((t) => [seeded[t].priceMonthlyCents, limit(t, 'max_products'), limit(t, 'max_orders_per_month'), limit(t, 'max_team_members')])).toEqual([
      [4900, 200, 100, 1],
      [9900, 500, 500, 3],
      [19900, 2000, 2000, 10],
      [39900, null, null, null],
    ]);
  });
});
