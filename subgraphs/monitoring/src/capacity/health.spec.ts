import { capacityConfigProblems, defaultCapacityConfig } from './capacity-config';
import { gatewayFiguresOf, p95Milliseconds, serverErrorRatePercent } from './gateway-metrics';
import type { PlatformFigures } from './figures';
import { infrastructureTierIndex, nextTierTrigger, platformHealth, resourceCapacity, statusOf, subscriptionCapacity, worstStatus } from './health';
import { scalingRecommendations } from './recommendations';
import { growthTrends, type SnapshotPoint } from './trends';

const config = defaultCapacityConfig();
const GiB = 2 ** 30;

function figures(overrides: Partial<PlatformFigures> = {}): PlatformFigures {
  return {
    totalStores: 40,
    activeStores: 40,
    teamMembers: 10,
    products: 9_000,
    ordersThisMonth: 100,
    mediaFiles: 5,
    mediaBytes: 10 * GiB,
    subscriptionsByStatus: { TRIAL: 0, ACTIVE: 40, PAST_DUE: 0, CANCELLED: 0, EXPIRED: 0 },
    tierDistribution: [{ tierCode: 'professional', count: 40 }],
    featureCapacity: { max_products: { limitSum: 10_000, limitedSubscriptions: 40, unlimitedSubscriptions: 0 } },
    ...overrides,
  };
}

describe('the shipped capacity configuration', () => {
  it('is valid and carries the reference values', () => {
    expect(config.infrastructureTiers.map((t) => [t.name, t.maxStores, t.maxProducts, t.costMonthly])).toEqual([
      ['Starter', 50, 10_000, 30],
      ['Small', 100, 30_000, 80],
      ['Medium', 300, 100_000, 150],
      ['Large', 500, 250_000, 350],
      ['Scale', 1000, 500_000, 700],
      ['Enterprise', null, null, 1500],
    ]);
    expect(config.thresholds).toEqual({
      products_total: { warning: 400_000, critical: 475_000 },
      storage_gb: { warning: 800, critical: 950 },
      db_size_gb: { warning: 20, critical: 24 },
      api_p95_ms: { warning: 500, critical: 2000 },
      error_rate_percent: { warning: 1, critical: 5 },
    });
  });

  it('names every problem of a broken one at once', () => {
    const broken = {
      ...config,
      thresholds: { ...config.thresholds, storage_gb: { warning: 900, critical: 800 }, unknown_metric: { warning: 1, critical: 2 } },
      infrastructureTiers: [{ ...config.infrastructureTiers[0], maxStores: null }, ...config.infrastructureTiers.slice(1)],
    };
    const { config: parsed, problems } = capacityConfigProblems(broken);
    expect(parsed).toBeUndefined();
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringContaining('thresholds.storage_gb: warning must be below critical'),
        expect.stringContaining("Unrecognized key(s) in object: 'unknown_metric'"),
        expect.stringContaining('infrastructureTiers.0: only the last tier is unbounded'),
      ]),
    );
  });
});

describe('platform health', () => {
  it('reaches a level at its value and takes the worst known status', () => {
    const levels = { warning: 10, critical: 20 };
    expect([9.99, 10, 19.99, 20, null].map((v) => statusOf(v, levels))).toEqual(['HEALTHY', 'WARNING', 'WARNING', 'CRITICAL', 'UNKNOWN']);
    expect(worstStatus(['HEALTHY', 'UNKNOWN', 'WARNING'])).toBe('WARNING');
    expect(worstStatus(['UNKNOWN', 'UNKNOWN'])).toBe('HEALTHY');
  });

  it('picks the smallest tier that holds stores and products, and names the next trigger', () => {
    const tiers = config.infrastructureTiers;
    expect(tiers[infrastructureTierIndex(tiers, 50, 10_000)].name).toBe('Starter');
    expect(tiers[infrastructureTierIndex(tiers, 51, 10)].name).toBe('Small');
    expect(tiers[infrastructureTierIndex(tiers, 10, 10_001)].name).toBe('Small');
    expect(tiers[infrastructureTierIndex(tiers, 5000, 10)].name).toBe('Enterprise');
    expect(nextTierTrigger(tiers, 2)).toBe('Large beyond 300 active stores or 100,000 products (caching and higher availability needed: add Redis, consider several app servers)');
    expect(nextTierTrigger(tiers, 5)).toBeNull();
  });

  it('turns critical when one threshold is crossed, whatever the others say', () => {
    const healthy = platformHealth(config, figures(), 100 * 2 ** 20, { p95Ms: 80, errorRatePercent: 0 });
    expect(healthy.overallStatus).toBe('HEALTHY');
    expect(healthy).toMatchObject({ databaseSizeMb: 100, imageStorage: { totalFiles: 5, totalSizeGb: 10 }, infrastructureTier: { name: 'Starter' } });
    const critical = platformHealth(config, figures(), 25 * GiB, { p95Ms: 80, errorRatePercent: 0 });
    expect(critical.overallStatus).toBe('CRITICAL');
    expect(critical.thresholds.find((t) => t.metric === 'db_size_gb')).toEqual({ metric: 'db_size_gb', current: 25, warning: 20, critical: 24, status: 'CRITICAL' });
  });

  it('computes utilisation and headroom, null utilisation without a finite limit', () => {
    expect(resourceCapacity(9_000, { limitSum: 10_000, limitedSubscriptions: 40, unlimitedSubscriptions: 2 })).toEqual({
      actual: 9_000, theoreticalLimit: 10_000, unlimitedSubscriptions: 2, utilizationPercent: 90, headroom: 1_000,
    });
    expect(resourceCapacity(12, { limitSum: 10, limitedSubscriptions: 1, unlimitedSubscriptions: 0 })).toMatchObject({ utilizationPercent: 120, headroom: 0 });
    expect(resourceCapacity(5)).toEqual({ actual: 5, theoreticalLimit: 0, unlimitedSubscriptions: 0, utilizationPercent: null, headroom: 0 });
    expect(subscriptionCapacity(figures()).totalSubscriptions).toBe(40);
  });
});

describe("the gateway's /metrics", () => {
  const text = [
    '# HELP tiergraph_gateway_request_duration_seconds GraphQL request latency by operation name',
    '# TYPE tiergraph_gateway_request_duration_seconds histogram',
    'tiergraph_gateway_request_duration_seconds_bucket{le="0.1",operation="A"} 80',
    'tiergraph_gateway_request_duration_seconds_bucket{le="0.5",operation="A"} 90',
    'tiergraph_gateway_request_duration_seconds_bucket{le="+Inf",operation="A"} 100',
    'tiergraph_gateway_request_duration_seconds_bucket{le="0.1",operation="B"} 100',
    'tiergraph_gateway_request_duration_seconds_bucket{le="0.5",operation="B"} 100',
    'tiergraph_gateway_request_duration_seconds_bucket{le="+Inf",operation="B"} 100',
    'tiergraph_gateway_request_duration_seconds_sum{operation="A"} 12',
    'tiergraph_gateway_requests_total{operation="A"} 100',
    'tiergraph_gateway_requests_total{operation="B"} 100',
    'tiergraph_gateway_errors_total{code="FORBIDDEN"} 30',
    'tiergraph_gateway_errors_total{code="INTERNAL_SERVER_ERROR"} 3',
    'tiergraph_gateway_errors_total{code="CATALOG_UNAVAILABLE"} 1',
  ].join('\n');

  it('interpolates the p95 across every operation and counts only server errors', () => {
    // 200 requests, rank 190: 180 by 0.1 s, 190 by 0.5 s: the 10th of 10 in (0.1, 0.5] is 0.5 s
    expect(p95Milliseconds(text)).toBe(500);
    // with 195 by 0.5 s, rank 190 is 10 of the 15 requests in (0.1, 0.5]: 100 ms + 400 ms × 10 / 15
    expect(p95Milliseconds(text.replace('le="0.5",operation="A"} 90', 'le="0.5",operation="A"} 95'))).toBeCloseTo(100 + 400 * (10 / 15), 6);
    // client mistakes (FORBIDDEN) are not the platform's errors: 4 of 200
    expect(serverErrorRatePercent(text)).toBe(2);
  });

  it('knows nothing before the first request', () => {
    expect(gatewayFiguresOf('# no samples yet\n')).toEqual({ p95Ms: null, errorRatePercent: null });
  });
});

describe('scaling recommendations', () => {
  const days = (n: number, value: (i: number) => Partial<SnapshotPoint['values']>): SnapshotPoint[] =>
    Array.from({ length: n }, (_, i) => ({
      date: new Date(Date.UTC(2026, 10, 2 + i)).toISOString().slice(0, 10),
      values: { STORES: 40, PRODUCTS: 9_000, ORDERS: 0, TEAM_MEMBERS: 0, STORAGE_GB: 10, ...value(i) },
    }));

  it("sorts critical → warning → info and includes the reference's and the forecast's", () => {
    // stores 20 → 49 over 30 days (1 a day, +145 %); products rising 100 a day from 6,100 to 9,000
    const window = days(30, (i) => ({ STORES: 20 + i, PRODUCTS: 6_100 + 100 * i }));
    const f = figures({ activeStores: 49, mediaBytes: 960 * GiB });
    const health = platformHealth(config, f, 100 * 2 ** 20, { p95Ms: 80, errorRatePercent: 0 });
    const recommendations = scalingRecommendations({ config, capacity: subscriptionCapacity(f), health, trends: growthTrends(window, 30), window });
    expect(recommendations.map((r) => [r.severity, r.category, r.title])).toEqual([
      ['CRITICAL', 'storage', 'Storage usage high'],
      ['WARNING', 'capacity', 'Product capacity approaching limit'],
      // 49 active stores at 1 a day: 51 (beyond Starter's 50) in 2 days
      ['WARNING', 'forecast', "Active stores will reach the Starter tier's 50 active stores in 2 days"],
      ['INFO', 'infrastructure', 'Current tier: Starter'],
      ['INFO', 'growth', 'High store growth rate'],
    ]);
    expect(recommendations[1].description).toBe('Currently at 90% of theoretical product capacity (9,000 of 10,000)');
  });

  it('recommends nothing alarming on a quiet platform', () => {
    const window = days(10, () => ({}));
    const f = figures({ products: 100 });
    const health = platformHealth(config, f, 2 ** 20, { p95Ms: null, errorRatePercent: null });
    expect(scalingRecommendations({ config, capacity: subscriptionCapacity(f), health, trends: growthTrends(window, 30), window }).map((r) => r.severity)).toEqual(['INFO']);
  });
});
