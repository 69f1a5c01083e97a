import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMediaSubgraph, developmentStorage } from '@tiergraph/media';
import { DEVELOPMENT_CORS } from '@tiergraph/runtime';
import { tokenFor } from '@tiergraph/testkit';
import { DEMO_HISTORY_DAYS, DEMO_MERCHANTS, seedDemo, type SeedSummary } from '../scripts/lib/seed-demo';
import { graphqlCaller, mediaUploader, renderDemoImage } from '../scripts/lib/seed-demo-http';
import { contractCaller, startTestGraph, type TestGraph } from './graph';

/**
 * `pnpm seed:demo` against the real graph (a tenth of its volume): every contract query then has data to show, and
 * a second run changes nothing.
 */
let graph: TestGraph;
let root: string;
let admin: string;
let first: SeedSummary;
const SCALE = 0.1;
const { ok } = contractCaller(() => graph, () => admin);

const seed = () =>
  seedDemo({
    graphql: graphqlCaller(graph.gateway.url, admin),
    uploadImage: mediaUploader(`http://127.0.0.1:${graph.subgraphs.media.port}/media/upload`, admin),
    renderImage: renderDemoImage,
    scale: SCALE,
  });

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'seed-demo-'));
  graph = await startTestGraph({ media: createMediaSubgraph({ cors: DEVELOPMENT_CORS, storage: { ...developmentStorage(), root, publicUrl: 'https://media.example.com' } }) as never });
  admin = await tokenFor({ role: 'admin' });
  first = await seed();
}, 240_000);

afterAll(async () => {
  await graph?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

const products = DEMO_MERCHANTS.reduce((sum, m) => sum + Math.ceil(m.products * SCALE) * m.stores.length, 0);
const stores = DEMO_MERCHANTS.reduce((sum, m) => sum + m.stores.length, 0);

it('creates the demo tenants, catalogue, orders, team, usage, media and 90 days of capacity', () => {
  expect(first.created).toMatchObject({
    merchants: DEMO_MERCHANTS.length,
    stores,
    products,
    users: DEMO_MERCHANTS.reduce((sum, m) => sum + m.members, 0),
    images: DEMO_MERCHANTS.reduce((sum, m) => sum + m.images * m.stores.length, 0),
    snapshots: DEMO_HISTORY_DAYS,
  });
  expect(first.created.orders).toBe(DEMO_MERCHANTS.reduce((sum, m) => sum + Math.ceil(m.orders * SCALE) * m.stores.length, 0));
  expect(first.created.usageEvents).toBe(40 * stores);
});

it('a second run finds everything and changes nothing', async () => {
  const again = await seed();
  expect(again.platformId).toBe(first.platformId);
  expect(again.created).toEqual({ merchants: 0, stores: 0, users: 0, products: 0, orders: 0, usageEvents: 0, images: 0, snapshots: 0 });
});

it('shows data on every admin page: subscriptions on every tier and state, capacity, trends, health, media', async () => {
  const stats = (await ok('SubscriptionStats', {})).subscriptionStats;
  expect(stats).toMatchObject({ totalSubscriptions: DEMO_MERCHANTS.length, trialSubscriptions: 1, pastDueSubscriptions: 1 });
  expect(stats.mrrCents).toBeGreaterThan(0);
  const page = (await ok('AdminSubscriptions', { first: 50 })).merchantSubscriptions;
  const tiers = new Set(page.edges.map((e: any) => e.node.tier.code));
  const statuses = new Set(page.edges.map((e: any) => e.node.status));
  expect([...tiers].sort()).toEqual(['business', 'enterprise', 'essential', 'professional']);
  expect([...statuses].sort()).toEqual(['ACTIVE', 'PAST_DUE', 'TRIAL']);

  const { platformHealth, subscriptionCapacity } = await ok('PlatformHealth', {});
  expect(platformHealth.imageStorage.totalFiles).toBeGreaterThan(0);
  expect(subscriptionCapacity.products.actual).toBe(products);
  expect(subscriptionCapacity.totalSubscriptions).toBe(DEMO_MERCHANTS.length);

  const { growthTrends, scalingRecommendations } = await ok('CapacityTrends', { days: 90 });
  expect(growthTrends.snapshotsAvailable).toBe(DEMO_HISTORY_DAYS + 1);
  const productTrend = growthTrends.trends.find((t: any) => t.metric === 'PRODUCTS');
  expect(productTrend.dailyGrowthRate).toBeGreaterThan(0);
  expect(productTrend.currentValue).toBe(products);
  expect(scalingRecommendations.length).toBeGreaterThan(0);
  const days = (await ok('DaysUntilThreshold', { metric: 'PRODUCTS', threshold: products * 2 })).daysUntilThreshold;
  expect(days).toBeGreaterThan(0);

  expect((await ok('MediaStorageStats', {})).mediaStorageStats.totalFiles).toBeGreaterThan(0);
});

it('shows data on every merchant page: features with usage, billing, insights, media, team', async () => {
  const fern = DEMO_MERCHANTS.find((m) => m.slug === 'fern-and-fig')!;
  const merchant = (await graphqlCaller(graph.gateway.url, admin)(`query($e: String!) { merchantByEmail(email: $e) { id stores { id } } }`, {
    e: `owner@${fern.slug}.demo.tiergraph.dev`,
  })).merchantByEmail;
  const storeId = merchant.stores[0].id;
  const features = (await ok('MerchantFeatures', { merchantId: merchant.id, platformId: first.platformId })).merchant.subscription.features;
  const current = (code: string) => features.find((f: any) => f.code === code).current;
  expect(current('max_products')).toBe(Math.ceil(fern.products * SCALE));
  expect(current('max_orders_per_month')).toBe(Math.ceil(fern.orders * SCALE));
  expect(current('max_team_members')).toBe(fern.members);
  expect(current('ai_tokens_per_month')).toBeGreaterThan(0);
  expect(current('max_storage_mb')).toBeGreaterThan(0);

  const billing = (await ok('StoreBilling', { storeId })).store;
  expect(billing.subscription.tier.code).toBe('essential');
  const insights = (await ok('UsageInsights', { storeId, featureCode: 'ai_tokens_per_month' })).store.usageInsights;
  expect(insights.used).toBeGreaterThan(0);
  expect((await ok('StoreMedia', { storeId, first: 10 })).store.media.totalCount).toBe(fern.images);
  expect((await ok('StoreCatalog', { storeId, first: 5 })).store.products.totalCount).toBe(Math.ceil(fern.products * SCALE));
  expect((await ok('MerchantUsers', { merchantId: merchant.id })).merchant.userStats.teamMembers).toBe(fern.members);
});
