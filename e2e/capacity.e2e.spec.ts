import { errorCodes, postGraphQL, tokenFor } from '@tiergraph/testkit';
import { startTestGraph, type TestGraph, contractCaller } from './graph';

let graph: TestGraph;
let admin: string;

const { send, ok } = contractCaller(() => graph, () => admin);

const DAY_MS = 86_400_000;
const today = () => new Date().toISOString().slice(0, 10);
const daysAgo = (n: number) => new Date(Date.parse(`${today()}T00:00:00Z`) - n * DAY_MS).toISOString().slice(0, 10);

/**
 * One platform as seed:demo would make it, small: four merchants on essential (ACTIVE), professional (TRIAL),
 * enterprise (ACTIVE, unlimited) and business (CANCELLED), five stores (one deactivated), six products (one deleted),
 * three orders, three team members and an owner.
 */
async function seed(): Promise<void> {
  const platformId = (await ok('CreatePlatform', { input: { code: 'capacity-demo', name: 'Capacity demo' } })).createPlatform.id;
  const merchant = async (name: string, tierCode: string, status: string) => {
    const id = (await ok('CreateMerchant', { input: { name, email: `${name.toLowerCase()}@capacity.test` } })).createMerchant.id;
    await ok('UpdateMerchantSubscription', { merchantId: id, platformId, input: { tierCode, status: 'ACTIVE' } });
    if (status !== 'ACTIVE') await ok('UpdateMerchantSubscription', { merchantId: id, platformId, input: { status } });
    return id;
  };
  const store = async (merchantId: string, code: string) => (await ok('CreateStore', { input: { merchantId, platformId, code, name: code } })).createStore.id;
  const product = async (storeId: string, sku: string) => (await ok('CreateProduct', { input: { storeId, sku, name: sku, priceCents: 1000 } })).createProduct.id;

  const [a, b, c, d] = [await merchant('Alpha', 'essential', 'ACTIVE'), await merchant('Beta', 'professional', 'TRIAL'), await merchant('Gamma', 'enterprise', 'ACTIVE'), await merchant('Delta', 'business', 'CANCELLED')];
  const [a1, a2, b1, c1] = [await store(a, 'alpha-one'), await store(a, 'alpha-two'), await store(b, 'beta-one'), await store(c, 'gamma-one')];
  await store(d, 'delta-one');
  await ok('SetStoreActive', { id: a2, isActive: false });

  const [p1, , p3] = [await product(a1, 'a-1'), await product(a1, 'a-2'), await product(a1, 'a-3')];
  await ok('DeleteProduct', { id: p3 });
  const p4 = await product(b1, 'b-1');
  await product(b1, 'b-2');
  await product(c1, 'c-1');

  await ok('PlaceOrder', { input: { storeId: a1, items: [{ productId: p1, quantity: 2 }] } });
  await ok('PlaceOrder', { input: { storeId: a1, items: [{ productId: p1, quantity: 1 }] } });
  await ok('PlaceOrder', { input: { storeId: b1, items: [{ productId: p4, quantity: 1 }] } });

  await ok('AddStoreUser', { input: { storeId: a1, email: 'member@alpha.test', role: 'MEMBER' } });
  await ok('AddStoreUser', { input: { storeId: b1, email: 'one@beta.test', role: 'MEMBER' } });
  await ok('AddStoreUser', { input: { storeId: b1, email: 'two@beta.test', role: 'MEMBER' } });
  await ok('AddStoreUser', { input: { storeId: c1, email: 'owner@gamma.test', role: 'OWNER' } });
}

beforeAll(async () => {
  graph = await startTestGraph();
  admin = await tokenFor({ role: 'admin' });
  await seed();
});

afterAll(async () => {
  await graph?.stop();
});

describe('capacity planning through the gateway', () => {
  it('CaptureCapacitySnapshot gathers every owner’s figures once a day, for an admin and for the jobs’ service token alike', async () => {
    const service = await tokenFor({ role: 'service', sub: 'jobs' });
    const started = process.hrtime.bigint();
    const [first, second] = await Promise.all([ok('CaptureCapacitySnapshot', {}), ok('CaptureCapacitySnapshot', {}, service)]);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    process.stdout.write(`two concurrent captures through the gateway: ${ms.toFixed(0)} ms\n`);
    expect(second.captureCapacitySnapshot).toEqual(first.captureCapacitySnapshot);
    expect(first.captureCapacitySnapshot).toEqual({
      id: expect.any(String),
      snapshotDate: today(),
      totalStores: 5,
      activeStores: 4,
      trialStores: 1,
      totalSubscriptions: 4,
      activeSubscriptions: 3,
      totalProducts: 5,
      totalOrdersMonth: 3,
      totalTeamMembers: 3,
      storageUsedGb: 0,
      dbSizeMb: expect.any(Number),
      // essential 200 + professional 500; enterprise is unlimited, the cancelled business plan is not live
      theoreticalProductsLimit: 700,
      theoreticalOrdersLimit: 600,
      theoreticalTeamLimit: 4,
      tierDistribution: [
        { tierCode: 'essential', count: 1 },
        { tierCode: 'professional', count: 1 },
        { tierCode: 'enterprise', count: 1 },
      ],
    });
    expect(first.captureCapacitySnapshot.dbSizeMb).toBeGreaterThan(1);
    const again = await ok('CaptureCapacitySnapshot', {});
    expect(again.captureCapacitySnapshot.id).toBe(first.captureCapacitySnapshot.id);
  });

  it('PlatformHealth shows the tier, the sizes, every threshold and the live subscriptions’ capacity', async () => {
    const { platformHealth, subscriptionCapacity } = await ok('PlatformHealth', {});
    expect(platformHealth).toMatchObject({
      infrastructureTier: { name: 'Starter', maxStores: 50, maxProducts: 10000, costMonthly: 30 },
      nextTierTrigger: expect.stringMatching(/^Small beyond 50 active stores or 10,000 products/),
      imageStorage: { totalFiles: 0, totalSizeGb: 0 },
    });
    expect(platformHealth.databaseSizeMb).toBeGreaterThan(1);
    const byMetric = Object.fromEntries(platformHealth.thresholds.map((t: { metric: string }) => [t.metric, t]));
    expect(Object.keys(byMetric)).toEqual(['products_total', 'storage_gb', 'db_size_gb', 'api_p95_ms', 'error_rate_percent']);
    expect(byMetric.products_total).toEqual({ metric: 'products_total', current: 5, warning: 400000, critical: 475000, status: 'HEALTHY' });
    // the gateway has served requests by now: its /metrics gives a p95 and an error rate (no server errors so far)
    expect(byMetric.api_p95_ms.current).toEqual(expect.any(Number));
    expect(byMetric.error_rate_percent).toMatchObject({ current: 0, status: 'HEALTHY' });
    const rank = { HEALTHY: 0, WARNING: 1, CRITICAL: 2, UNKNOWN: -1 } as Record<string, number>;
    const worst = platformHealth.thresholds.reduce((w: string, t: { status: string }) => (rank[t.status] > rank[w] ? t.status : w), 'HEALTHY');
    expect(platformHealth.overallStatus).toBe(worst);

    expect(subscriptionCapacity).toEqual({
      totalSubscriptions: 4,
      tierDistribution: [
        { tierCode: 'essential', count: 1 },
        { tierCode: 'professional', count: 1 },
        { tierCode: 'enterprise', count: 1 },
      ],
      products: { actual: 5, theoreticalLimit: 700, utilizationPercent: 0.71, headroom: 695 },
      ordersMonthly: { actual: 3, theoreticalLimit: 600, utilizationPercent: 0.5, headroom: 597 },
      teamMembers: { actual: 3, theoreticalLimit: 4, utilizationPercent: 75, headroom: 1 },
    });
  });

  it('CapacityTrends and DaysUntilThreshold fit a least-squares line over seeded history and today’s snapshot', async () => {
    // 29 days of history without products, today's snapshot has 5: x = 0..29, Sxy = 14.5 × 5, Sxx = 30 × 899 / 12,
    // so the slope is 72.5 / 2247.5 = 1/31 products a day
    const history = Array.from({ length: 29 }, (_, i) => ({ snapshotDate: daysAgo(29 - i), totalStores: 5, activeStores: 4, totalProducts: 0 }));
    const imported = await postGraphQL(graph.gateway.url, { query: `mutation($s: [CapacitySnapshotInput!]!) { importCapacitySnapshots(snapshots: $s) { imported kept } }`, variables: { s: history } }, { token: admin });
    expect(imported.data).toEqual({ importCapacitySnapshots: { imported: 29, kept: 0 } });

    const { growthTrends, scalingRecommendations } = await ok('CapacityTrends', { days: 30 });
    expect(growthTrends).toMatchObject({ periodDays: 29, snapshotsAvailable: 30, startDate: daysAgo(29), endDate: today(), message: null });
    expect(growthTrends.trends.map((t: { metric: string }) => t.metric)).toEqual(['STORES', 'PRODUCTS', 'ORDERS', 'TEAM_MEMBERS', 'STORAGE_GB']);
    expect(growthTrends.trends[1]).toEqual({
      metric: 'PRODUCTS',
      startValue: 0,
      currentValue: 5,
      change: 5,
      growthRatePercent: null, // the fitted start is below 0: no percentage of it
      dailyGrowthRate: 0.0323,
      monthlyProjection: 5.97, // 5 + 30 / 31
    });
    expect(growthTrends.trends[0]).toMatchObject({ metric: 'STORES', startValue: 4, currentValue: 4, dailyGrowthRate: 0, growthRatePercent: 0 });
    const order = ['CRITICAL', 'WARNING', 'INFO'];
    const severities = scalingRecommendations.map((r: { severity: string }) => order.indexOf(r.severity));
    expect(severities).toEqual([...severities].sort());
    expect(scalingRecommendations).toContainEqual({
      category: 'infrastructure',
      severity: 'INFO',
      title: 'Current tier: Starter',
      description: expect.stringMatching(/^Next upgrade trigger: Small beyond 50 active stores/),
      action: 'Monitor growth and plan for infrastructure scaling',
    });

    // (10 − 5) × 31 = 155 days; reached already: 0; flat stores never get there: null
    expect((await ok('DaysUntilThreshold', { metric: 'PRODUCTS', threshold: 10 })).daysUntilThreshold).toBe(155);
    expect((await ok('DaysUntilThreshold', { metric: 'PRODUCTS', threshold: 5 })).daysUntilThreshold).toBe(0);
    expect((await ok('DaysUntilThreshold', { metric: 'STORES', threshold: 50 })).daysUntilThreshold).toBeNull();
  });

  it('refuses a merchant every capacity operation with FORBIDDEN, also the platform figures behind them', async () => {
    const merchant = await tokenFor({ role: 'merchant', merchantId: '00000000-0000-4000-8000-000000000001' });
    for (const [name, variables] of [['PlatformHealth', {}], ['CapacityTrends', { days: 30 }], ['DaysUntilThreshold', { metric: 'STORES', threshold: 5 }], ['CaptureCapacitySnapshot', {}]] as const) {
      const response = await send(name, variables, merchant);
      expect([name, [...new Set(errorCodes(response))]]).toEqual([name, ['FORBIDDEN']]);
    }
  });
});
