import { randomUUID } from 'node:crypto';
import type { RunningSubgraph } from '@tiergraph/runtime';
import { tenancySubgraph } from '@tiergraph/tenancy';
import { createTenants, createTestDatabase, errorCodes, postGraphQL, recordSqlStatements, startTestSubgraphs, tokenFor, type TestDatabase, type Tenants } from '@tiergraph/testkit';
import { defaultCapacityConfig, type CapacityConfig } from '../capacity/capacity-config';
import type { PlatformFigures } from '../capacity/figures';
import type { GatewayFigures } from '../capacity/health';
import { GatewayPlatformFigures, PlatformFiguresUnavailableError } from '../clients/platform-figures-client';
import { createMonitoringSubgraph } from '../index';

/** Monitoring alone on a real database, with fixed figures in place of the graph and a fixed clock. */
const NOW = new Date('2026-12-01T09:30:00Z');
let now = NOW;
const GiB = 2 ** 30;

function figures(overrides: Partial<PlatformFigures> = {}): PlatformFigures {
  return {
    totalStores: 12,
    activeStores: 10,
    teamMembers: 4,
    products: 300,
    ordersThisMonth: 45,
    mediaFiles: 20,
    mediaBytes: 1.5 * GiB,
    subscriptionsByStatus: { TRIAL: 2, ACTIVE: 5, PAST_DUE: 1, CANCELLED: 3, EXPIRED: 1 },
    tierDistribution: [{ tierCode: 'essential', count: 5 }, { tierCode: 'business', count: 3 }],
    featureCapacity: {
      max_products: { limitSum: 1000, limitedSubscriptions: 5, unlimitedSubscriptions: 3 },
      max_orders_per_month: { limitSum: 500, limitedSubscriptions: 5, unlimitedSubscriptions: 3 },
      max_team_members: { limitSum: 5, limitedSubscriptions: 5, unlimitedSubscriptions: 3 },
    },
    ...overrides,
  };
}

const CAPTURE = `mutation { captureCapacitySnapshot {
  id snapshotDate totalStores activeStores trialStores totalSubscriptions activeSubscriptions
  totalProducts totalOrdersMonth totalTeamMembers totalMediaFiles storageUsedGb dbSizeMb
  theoreticalProductsLimit theoreticalOrdersLimit theoreticalTeamLimit tierDistribution { tierCode count }
} }`;
const IMPORT = `mutation($s: [CapacitySnapshotInput!]!) { importCapacitySnapshots(snapshots: $s) { imported kept } }`;
const HEALTH = `{ platformHealth { overallStatus infrastructureTier { name maxStores maxProducts costMonthly } nextTierTrigger databaseSizeMb
  imageStorage { totalFiles totalSizeGb } thresholds { metric current warning critical status } } }`;

describe('monitoring: snapshots, health and authorisation', () => {
  let db: TestDatabase;
  let running: RunningSubgraph;
  let tenancy: RunningSubgraph;
  /** Real tenants: a store token is accepted only for a store of its merchant (tenancy says which). */
  let tenants: Tenants;
  let admin: string;
  let current = figures();
  let gateway: GatewayFigures = { p95Ms: 120, errorRatePercent: 0.2 };
  let gathered = 0;
  let unreachable = false;
  const bothGathering = (() => {
    let release!: () => void;
    const done = new Promise<void>((resolve) => (release = resolve));
    return { done, release: () => release() };
  })();
  const config: CapacityConfig = { ...defaultCapacityConfig(), thresholds: { ...defaultCapacityConfig().thresholds, products_total: { warning: 400, critical: 500 } } };

  const send = async (query: string, token = admin, variables?: Record<string, unknown>) => postGraphQL(running.url, { query, variables }, { token });

  beforeAll(async () => {
    db = await createTestDatabase();
    ({ tenancy, monitoring: running } = await startTestSubgraphs({
      tenancy: tenancySubgraph,
      monitoring: createMonitoringSubgraph({
        capacity: config,
        clock: () => now,
        platformFigures: () => ({
          figures: async (monthStart) => {
            if (unreachable) throw new PlatformFiguresUnavailableError('connect ECONNREFUSED');
            expect(monthStart.toISOString()).toBe('2026-12-01T00:00:00.000Z');
            gathered++;
            // the first two gatherings wait for each other: two captures are past the "has today one?" check
            // before either inserts, whatever the machine's speed
            if (gathered === 2) bothGathering.release();
            if (gathered <= 2) await bothGathering.done;
            return current;
          },
        }),
        gatewayFigures: { figures: async () => gateway },
      }),
    }, db.url));
    tenants = await createTenants(tenancy.url);
    admin = await tokenFor({ role: 'admin' });
  });

  afterAll(async () => {
    await running?.stop();
    await tenancy?.stop();
    await db?.drop();
  });

  it('captures one snapshot per UTC day: two concurrent captures answer the same snapshot, and a later one too', async () => {
    const [first, second] = await Promise.all([send(CAPTURE), send(CAPTURE, await tokenFor({ role: 'service' }))]);
    expect(first.errors).toBeUndefined();
    expect(second.errors).toBeUndefined();
    expect(gathered).toBe(2);
    const snapshot = first.data!.captureCapacitySnapshot;
    expect(second.data!.captureCapacitySnapshot).toEqual(snapshot);
    expect(snapshot).toEqual({
      id: expect.any(String),
      snapshotDate: '2026-12-01',
      totalStores: 12,
      activeStores: 10,
      trialStores: 2,
      totalSubscriptions: 12,
      activeSubscriptions: 8,
      totalProducts: 300,
      totalOrdersMonth: 45,
      totalTeamMembers: 4,
      totalMediaFiles: 20,
      storageUsedGb: 1.5,
      dbSizeMb: expect.any(Number),
      theoreticalProductsLimit: 1000,
      theoreticalOrdersLimit: 500,
      theoreticalTeamLimit: 5,
      tierDistribution: [{ tierCode: 'essential', count: 5 }, { tierCode: 'business', count: 3 }],
    });
    expect(snapshot.dbSizeMb).toBeGreaterThan(1);

    current = figures({ products: 999 });
    const later = await send(CAPTURE);
    expect(later.data!.captureCapacitySnapshot).toEqual(snapshot);
    expect(gathered).toBe(2); // the day has its snapshot: nothing is gathered
    const [{ n }] = await running.dataSource.query(`SELECT count(*)::int AS n FROM monitoring.capacity_snapshots`);
    expect(n).toBe(1);
  });

  it('switches platformHealth from healthy to warning to critical as products cross the configured thresholds', async () => {
    const statusAt = async (products: number) => {
      current = figures({ products });
      const res = await send(HEALTH);
      expect(res.errors).toBeUndefined();
      const health = res.data!.platformHealth;
      return { overall: health.overallStatus, products: health.thresholds.find((t: { metric: string }) => t.metric === 'products_total') };
    };
    expect(await statusAt(399)).toEqual({ overall: 'HEALTHY', products: { metric: 'products_total', current: 399, warning: 400, critical: 500, status: 'HEALTHY' } });
    expect(await statusAt(400)).toMatchObject({ overall: 'WARNING', products: { status: 'WARNING' } });
    expect(await statusAt(500)).toMatchObject({ overall: 'CRITICAL', products: { status: 'CRITICAL' } });
  });

  it('reads the gateway latency and error rate against the scaling triggers, unknown when unreadable', async () => {
    current = figures();
    gateway = { p95Ms: 650, errorRatePercent: null };
    const health = (await send(HEALTH)).data!.platformHealth;
    expect(health.thresholds).toEqual(
      expect.arrayContaining([
        { metric: 'api_p95_ms', current: 650, warning: 500, critical: 2000, status: 'WARNING' },
        { metric: 'error_rate_percent', current: null, warning: 1, critical: 5, status: 'UNKNOWN' },
      ]),
    );
    expect(health.overallStatus).toBe('WARNING');
    expect(health.infrastructureTier).toEqual({ name: 'Starter', maxStores: 50, maxProducts: 10000, costMonthly: 30 });
    expect(health.nextTierTrigger).toMatch(/^Small beyond 50 active stores or 10,000 products/);
    expect(health.imageStorage).toEqual({ totalFiles: 20, totalSizeGb: 1.5 });
    gateway = { p95Ms: 120, errorRatePercent: 0.2 };
  });

  it('answers subscriptionCapacity from the live limits', async () => {
    current = figures();
    const res = await send(`{ subscriptionCapacity { totalSubscriptions tierDistribution { tierCode count }
      products { actual theoreticalLimit unlimitedSubscriptions utilizationPercent headroom }
      teamMembers { actual theoreticalLimit utilizationPercent headroom } } }`);
    expect(res.data!.subscriptionCapacity).toEqual({
      totalSubscriptions: 12,
      tierDistribution: [{ tierCode: 'essential', count: 5 }, { tierCode: 'business', count: 3 }],
      products: { actual: 300, theoreticalLimit: 1000, unlimitedSubscriptions: 3, utilizationPercent: 30, headroom: 700 },
      teamMembers: { actual: 4, theoreticalLimit: 5, utilizationPercent: 80, headroom: 1 },
    });
  });

  it('imports past days all or nothing: admins only, no today, no repeats, no negative figures', async () => {
    const count = async () => (await running.dataSource.query(`SELECT count(*)::int AS n FROM monitoring.capacity_snapshots`))[0].n as number;
    const before = await count();
    const service = await tokenFor({ role: 'service' });
    expect(errorCodes(await send(IMPORT, service, { s: [{ snapshotDate: '2026-10-01' }] }))).toEqual(['FORBIDDEN']);
    const refused = async (snapshots: unknown[], field: string) => {
      const res = await send(IMPORT, admin, { s: snapshots });
      expect(errorCodes(res)).toEqual(['BAD_USER_INPUT']);
      expect(res.errors![0].extensions!.field).toBe(field);
    };
    await refused([{ snapshotDate: '2026-10-01' }, { snapshotDate: '2026-12-01' }], 'snapshots.1.snapshotDate'); // today
    await refused([{ snapshotDate: '2026-10-01' }, { snapshotDate: '2026-10-01' }], 'snapshots.1.snapshotDate');
    await refused([{ snapshotDate: '2026-02-30' }], 'snapshots.0.snapshotDate');
    await refused([{ snapshotDate: '2026-10-01' }, { snapshotDate: '2026-10-02', totalProducts: -1 }], 'snapshots.1.totalProducts');
    await refused([], 'snapshots');
    expect(await count()).toBe(before);
  });

  it('trends and forecasts over historical snapshots imported idempotently', async () => {
    // 20 days before today, products 100 + 10 a day; today's snapshot (300 products) is already there
    const history = Array.from({ length: 20 }, (_, i) => ({
      snapshotDate: new Date(Date.UTC(2026, 10, 11 + i)).toISOString().slice(0, 10),
      activeStores: 10,
      totalProducts: 100 + 10 * i,
    }));
    expect((await send(IMPORT, admin, { s: history })).data!.importCapacitySnapshots).toEqual({ imported: 20, kept: 0 });
    expect((await send(IMPORT, admin, { s: history.slice(5) })).data!.importCapacitySnapshots).toEqual({ imported: 0, kept: 15 });

    const trends = (await send(`query($d: Int!) { growthTrends(days: $d) { periodDays snapshotsAvailable startDate endDate message
      trends { metric startValue currentValue dailyGrowthRate } } }`, admin, { d: 7 })).data!.growthTrends;
    // 2026-11-25 … 2026-11-30: 240 … 290 (day i of the history is 100 + 10 i), and today 300 (the captured figures)
    expect(trends).toMatchObject({ periodDays: 6, snapshotsAvailable: 7, startDate: '2026-11-25', endDate: '2026-12-01', message: null });
    expect(trends.trends.find((t: { metric: string }) => t.metric === 'PRODUCTS')).toEqual({ metric: 'PRODUCTS', startValue: 240, currentValue: 300, dailyGrowthRate: 10 });

    const days = await send(`query($t: Int!) { daysUntilThreshold(metric: PRODUCTS, threshold: $t) }`, admin, { t: 300 });
    expect(days.data!.daysUntilThreshold).toBe(0);
    const recommendations = (await send(`{ scalingRecommendations { category severity title } }`)).data!.scalingRecommendations;
    const severities = recommendations.map((r: { severity: string }) => r.severity);
    expect([...severities].sort((a: string, b: string) => ['CRITICAL', 'WARNING', 'INFO'].indexOf(a) - ['CRITICAL', 'WARNING', 'INFO'].indexOf(b))).toEqual(severities);
    expect(recommendations).toEqual(expect.arrayContaining([{ category: 'infrastructure', severity: 'INFO', title: 'Current tier: Starter' }]));
  });

  it("reads a window of snapshots once per request: the contract's trends and recommendations share the 30 days", async () => {
    const recorded = recordSqlStatements();
    let answer;
    try {
      answer = await send(`{ growthTrends(days: 30) { snapshotsAvailable } scalingRecommendations { title } }`);
    } finally {
      recorded.stop();
    }
    expect(answer.errors).toBeUndefined();
    expect(recorded.statements.filter((s) => /capacity_snapshots/.test(s) && /BETWEEN/.test(s))).toHaveLength(1);
  });

  it('explains instead of trending with fewer than two snapshots, and refuses a window out of range', async () => {
    await running.dataSource.query(`DELETE FROM monitoring.capacity_snapshots WHERE snapshot_date < '2026-12-01'`);
    const res = await send(`{ growthTrends(days: 30) { snapshotsAvailable message trends { metric } } }`);
    expect(res.data!.growthTrends).toEqual({ snapshotsAvailable: 1, message: expect.stringContaining('Insufficient data'), trends: [] });
    expect(errorCodes(await send(`{ growthTrends(days: 0) { periodDays } }`))).toEqual(['BAD_USER_INPUT']);
  });

  it('fails closed when the figures cannot be gathered: a clear code, no snapshot written', async () => {
    now = new Date('2026-12-02T00:00:01Z');
    unreachable = true;
    try {
      const res = await send(CAPTURE);
      expect(errorCodes(res)).toEqual(['PLATFORM_FIGURES_UNAVAILABLE']);
      expect(res.errors![0].message).toMatch(/nothing was written/);
      const [{ n }] = await running.dataSource.query(`SELECT count(*)::int AS n FROM monitoring.capacity_snapshots WHERE snapshot_date = '2026-12-02'`);
      expect(n).toBe(0);
    } finally {
      now = NOW;
      unreachable = false;
    }
  });

  it('refuses merchants and store users with FORBIDDEN on every capacity field, and writes nothing for them', async () => {
    const tokens = [tenants.tokens.merchant1, tenants.tokens.store1];
    for (const token of tokens) {
      for (const query of [HEALTH, CAPTURE, '{ subscriptionCapacity { totalSubscriptions } }', '{ growthTrends(days: 30) { message } }',
        '{ scalingRecommendations { title } }', '{ daysUntilThreshold(metric: STORES, threshold: 10) }', '{ platformMetrics { id } }']) {
        expect([query, errorCodes(await send(query, token))]).toEqual([query, ['FORBIDDEN']]);
      }
    }
    expect((await postGraphQL(running.url, { query: HEALTH })).status).toBe(401);
  });
});

describe('monitoring: gathering through the gateway', () => {
  it('answers PLATFORM_FIGURES_UNAVAILABLE when the gateway cannot be reached', async () => {
    const source = new GatewayPlatformFigures(() => 'http://127.0.0.1:9/graphql', () => tokenFor({ role: 'service' }), 500);
    await expect(source.figures(new Date('2026-12-01T00:00:00Z'))).rejects.toMatchObject({ extensions: { code: 'PLATFORM_FIGURES_UNAVAILABLE' } });
  });
});
