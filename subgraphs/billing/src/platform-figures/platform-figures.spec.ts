import { randomUUID } from 'node:crypto';
import type { RunningSubgraph } from '@tiergraph/runtime';
import { tenancySubgraph } from '@tiergraph/tenancy';
import { createTenants, createTestDatabase, platformMetricsOf, PLATFORM_METRICS_ACCESS, startTestSubgraphs, type Tenants, type TestDatabase } from '@tiergraph/testkit';
import { planFeatures } from '../entitlements/feature-summary';
import { billingSubgraph } from '../index';

/**
 * Billing's PlatformMetrics contribution straight from `_entities`: subscriptions by status, live subscriptions by
 * tier, and per quantitative feature the sum of the live subscriptions' effective limits, held to the same answer
 * as billing's own plan rule (planFeatures) for every subscription.
 */
describe('billing: its PlatformMetrics contribution', () => {
  let db: TestDatabase;
  let running: RunningSubgraph;
  let tenancy: RunningSubgraph;
  /** Real tenants (their subscriptions are not these figures'): a store token is accepted only for a store of its merchant. */
  let tenants: Tenants;
  const platformId = randomUUID();
  const SELECTION = `subscriptionCounts { status count } liveTierDistribution { tierCode count }
    featureCapacity { featureCode limitSum limitedSubscriptions unlimitedSubscriptions }`;

  async function subscription(tierCode: string, status: string, overrides: Array<[code: string, limit: number | null, enabled: boolean]> = []): Promise<void> {
    const merchantId = randomUUID();
    await running.dataSource.query(
      `INSERT INTO billing.merchant_subscriptions (merchant_id, platform_id, merchant_name, tier_id, status, billing_cycle, current_period_start, current_period_end)
       SELECT $1, $2, 'M', id, $4, 'MONTHLY', '2026-11-01', '2026-12-01' FROM billing.subscription_tiers WHERE code = $3`,
      [merchantId, platformId, tierCode, status],
    );
    for (const [code, limit, enabled] of overrides) {
      await running.dataSource.query(
        `INSERT INTO billing.merchant_feature_overrides (merchant_id, platform_id, feature_code, limit_value, is_enabled) VALUES ($1, $2, $3, $4, $5)`,
        [merchantId, platformId, code, limit, enabled],
      );
    }
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    ({ tenancy, billing: running } = await startTestSubgraphs({ tenancy: tenancySubgraph, billing: billingSubgraph }, db.url));
    tenants = await createTenants(tenancy.url);
    // the owners' declarations as they register them at their start (a binary one too: it has no capacity)
    await running.dataSource.query(
      `INSERT INTO billing.feature_declarations (code, owner, name, description, category, feature_type, scope)
       VALUES ('max_products', 'catalog', 'Products', 'd', 'catalog', 'QUANTITATIVE', 'MERCHANT'),
              ('max_orders_per_month', 'orders', 'Orders', 'd', 'orders', 'QUANTITATIVE', 'MERCHANT'),
              ('max_team_members', 'tenancy', 'Team', 'd', 'team', 'QUANTITATIVE', 'MERCHANT'),
              ('api_access', 'billing', 'API', 'd', 'integrations', 'BINARY', 'MERCHANT')
       ON CONFLICT (code) DO NOTHING`,
    );
    await subscription('essential', 'ACTIVE');
    // an override raises products, and a disabled one allows no team members
    await subscription('professional', 'TRIAL', [['max_products', 1000, true], ['max_team_members', 5, false]]);
    await subscription('enterprise', 'PAST_DUE');
    // not live: their plans hold no capacity
    await subscription('business', 'CANCELLED');
    await subscription('business', 'EXPIRED', [['max_products', 9999, true]]);
    // an override can make a limited plan unlimited
    await subscription('essential', 'ACTIVE', [['max_orders_per_month', null, true]]);
  });

  afterAll(async () => {
    await running?.stop();
    await tenancy?.stop();
    await db?.drop();
  });

  it('counts by status and tier, and sums the live effective limits with unlimited ones apart, for admins and services only', async () => {
    const { access, figures } = await platformMetricsOf(running.url, SELECTION, { merchant: tenants.tokens.merchant1, store: tenants.tokens.store1 });
    expect(access).toEqual(PLATFORM_METRICS_ACCESS);
    expect(figures!.subscriptionCounts).toEqual([
      { status: 'TRIAL', count: 1 },
      { status: 'ACTIVE', count: 2 },
      { status: 'PAST_DUE', count: 1 },
      { status: 'CANCELLED', count: 1 },
      { status: 'EXPIRED', count: 1 },
    ]);
    expect(figures!.liveTierDistribution).toEqual([
      { tierCode: 'essential', count: 2 },
      { tierCode: 'professional', count: 1 },
      { tierCode: 'enterprise', count: 1 },
    ]);
    const capacity = Object.fromEntries((figures!.featureCapacity as Array<{ featureCode: string }>).map(({ featureCode, ...c }) => [featureCode, c]));
    expect(capacity.api_access).toBeUndefined();
    // essential 200 + professional's override 1,000 + essential 200; enterprise unlimited
    expect(capacity.max_products).toEqual({ limitSum: 1400, limitedSubscriptions: 3, unlimitedSubscriptions: 1 });
    // essential 100 + professional 500; enterprise and the overridden essential unlimited
    expect(capacity.max_orders_per_month).toEqual({ limitSum: 600, limitedSubscriptions: 2, unlimitedSubscriptions: 2 });
    // essential 1 + disabled 0 + essential 1; enterprise unlimited
    expect(capacity.max_team_members).toEqual({ limitSum: 2, limitedSubscriptions: 3, unlimitedSubscriptions: 1 });
  });

  it('agrees with billing’s plan rule (planFeatures) subscription by subscription', async () => {
    const subscriptions: Array<{ merchant_id: string; status: 'ACTIVE'; tier_id: string }> = await running.dataSource.query(
      `SELECT merchant_id, status, tier_id FROM billing.merchant_subscriptions WHERE platform_id = $1`,
      [platformId],
    );
    const codes: Array<{ code: string }> = await running.dataSource.query(`SELECT code FROM billing.feature_declarations WHERE feature_type = 'QUANTITATIVE'`);
    const expected = new Map(codes.map(({ code }) => [code, { limitSum: 0, limitedSubscriptions: 0, unlimitedSubscriptions: 0 }]));
    for (const s of subscriptions) {
      const tierLimits = await running.dataSource.query(`SELECT feature_code AS "featureCode", limit_value AS "limitValue", enabled FROM billing.tier_feature_limits WHERE tier_id = $1`, [s.tier_id]);
      const overrides = await running.dataSource.query(
        `SELECT feature_code AS "featureCode", limit_value AS "limitValue", is_enabled AS "isEnabled" FROM billing.merchant_feature_overrides WHERE merchant_id = $1`,
        [s.merchant_id],
      );
      const plan = planFeatures({ status: s.status }, tierLimits, overrides);
      if (!plan.active) continue;
      for (const [code, sum] of expected) {
        // a declared feature the plan does not name allows nothing (summarize: limit 0)
        const limit = plan.features.has(code) ? plan.features.get(code)!.limit : 0;
        if (limit === null) sum.unlimitedSubscriptions++;
        else {
          sum.limitedSubscriptions++;
          sum.limitSum += limit;
        }
      }
    }
    const { figures } = await platformMetricsOf(running.url, SELECTION, { merchant: tenants.tokens.merchant1, store: tenants.tokens.store1 });
    const actual = Object.fromEntries((figures!.featureCapacity as Array<{ featureCode: string }>).map(({ featureCode, ...c }) => [featureCode, c]));
    expect(actual).toEqual(Object.fromEntries(expected));
  });
});
