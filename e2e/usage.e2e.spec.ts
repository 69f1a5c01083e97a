import { randomUUID } from 'node:crypto';
import { tokenFor } from '@tiergraph/testkit';
import { startTestGraph, type TestGraph, contractCaller } from './graph';

let graph: TestGraph;
let admin: string;
const FEATURE = 'ai_tokens_per_month';

const { send, ok } = contractCaller(() => graph, () => admin);

/** A merchant on the professional plan (500,000 tokens) with two stores. */
async function merchant() {
  const n = randomUUID().slice(0, 8);
  const platform = (await ok('CreatePlatform', { input: { code: `p-${n}`, name: 'P' } })).createPlatform;
  const m = (await ok('CreateMerchant', { input: { name: `Tokens ${n}`, email: `t-${n}@example.com` } })).createMerchant;
  const store1 = (await ok('CreateStore', { input: { merchantId: m.id, platformId: platform.id, code: 'one', name: 'One' } })).createStore;
  const store2 = (await ok('CreateStore', { input: { merchantId: m.id, platformId: platform.id, code: 'two', name: 'Two' } })).createStore;
  await ok('UpdateMerchantSubscription', { merchantId: m.id, platformId: platform.id, input: { tierCode: 'professional' } });
  return {
    platformId: platform.id,
    merchantId: m.id,
    store1: store1.id,
    store2: store2.id,
    storeToken: await tokenFor({ role: 'store', merchantId: m.id, storeId: store1.id }),
    merchantToken: await tokenFor({ role: 'merchant', merchantId: m.id }),
  };
}

const eventsOf = async (merchantId: string) =>
  (await graph.subgraphs.billing.dataSource.query(`SELECT count(*)::int AS n FROM billing.usage_events WHERE merchant_id = $1`, [merchantId]))[0].n;

beforeAll(async () => {
  graph = await startTestGraph();
  admin = await tokenFor({ role: 'admin' });
});

afterAll(async () => {
  await graph?.stop();
});

describe('metered usage through the gateway', () => {
  it('RecordUsage and RecordUsageBatch count tokens that MerchantFeatures, StoreBilling and UsageInsights show', async () => {
    const w = await merchant();
    const key = randomUUID();
    const recorded = await ok('RecordUsage', { input: { storeId: w.store1, featureCode: FEATURE, quantity: 150_000, idempotencyKey: key } }, w.storeToken);
    expect(recorded.recordUsage).toEqual({ featureCode: FEATURE, accepted: true, duplicate: false, current: 150_000, limit: 500_000, remaining: 350_000 });
    const again = await ok('RecordUsage', { input: { storeId: w.store1, featureCode: FEATURE, quantity: 150_000, idempotencyKey: key } }, w.storeToken);
    expect(again.recordUsage).toMatchObject({ accepted: true, duplicate: true, current: 150_000 });

    const events = [
      { storeId: w.store2, featureCode: FEATURE, quantity: 100_000, idempotencyKey: 'b-1' },
      { storeId: w.store1, featureCode: FEATURE, quantity: 1, idempotencyKey: key },
      { storeId: w.store2, featureCode: FEATURE, quantity: 300_000, idempotencyKey: 'b-2' },
      { storeId: w.store2, featureCode: FEATURE, quantity: 20_000, idempotencyKey: 'b-3' },
    ];
    const batch = (await ok('RecordUsageBatch', { events }, w.merchantToken)).recordUsageBatch;
    expect(batch).toMatchObject({ accepted: 2, duplicates: 0, refused: 2 });
    expect(batch.results.map((r: { errorCode: string | null }) => r.errorCode)).toEqual([null, 'BAD_USER_INPUT', 'FEATURE_LIMIT_REACHED', null]);
    expect(batch.results[3]).toEqual({ idempotencyKey: 'b-3', accepted: true, duplicate: false, errorCode: null, current: 270_000, limit: 500_000, remaining: 230_000 });

    const { merchant: m } = await ok('MerchantFeatures', { merchantId: w.merchantId, platformId: w.platformId }, w.merchantToken);
    expect(m.subscription.features.find((f: { code: string }) => f.code === FEATURE)).toMatchObject({
      featureType: 'QUANTITATIVE', scope: 'MERCHANT', unit: 'tokens', enabled: true, limit: 500_000, current: 270_000, remaining: 230_000, percentUsed: 54, isOverride: false,
    });
    const billing = await ok('StoreBilling', { storeId: w.store2 }, w.merchantToken);
    expect(billing.store.usage.find((u: { code: string }) => u.code === FEATURE)).toMatchObject({ current: 270_000, limit: 500_000, percentage: 54, isAtLimit: false });

    const insights = (await ok('UsageInsights', { storeId: w.store1, featureCode: FEATURE }, w.storeToken)).store.usageInsights;
    expect(insights).toMatchObject({ featureCode: FEATURE, allocated: 500_000, used: 270_000, remaining: 230_000, usagePercentage: 54 });
    expect(insights.alerts).toContainEqual({ level: 'INFO', message: "Moderate usage: 54.0 % of this period's tokens used", action: 'Usage is on track' });
    const today = new Date().toISOString().slice(0, 10);
    expect(insights.daily.at(-1)).toEqual({ date: today, quantity: 270_000 });
    expect(insights.avgDailyUsage).toBe(270_000);
  });

  it('refuses bad input, other tenants and a missing subscription with coded errors, writing nothing', async () => {
    const w = await merchant();
    const other = await merchant();
    const input = (extra: Record<string, unknown>) => ({ input: { storeId: w.store1, featureCode: FEATURE, quantity: 10, idempotencyKey: randomUUID(), ...extra } });
    const cases: Array<[string, Record<string, unknown>, string, string?]> = [
      ['quantity 0', input({ quantity: 0 }), 'BAD_USER_INPUT'],
      ['unknown feature', input({ featureCode: 'nope' }), 'BAD_USER_INPUT'],
      ['computed feature', input({ featureCode: 'max_products' }), 'BAD_USER_INPUT'],
      ['far future', input({ occurredAt: new Date(Date.now() + 3_600_000).toISOString() }), 'BAD_USER_INPUT'],
      ['before the subscription', input({ occurredAt: new Date(Date.now() - 86_400_000).toISOString() }), 'BAD_USER_INPUT'],
      ['another tenant', input({}), 'NOT_FOUND', other.merchantToken],
      ['over the allocation', input({ quantity: 500_001 }), 'FEATURE_LIMIT_REACHED'],
    ];
    for (const [name, variables, code, token] of cases) {
      const response = await send('RecordUsage', variables, token ?? w.merchantToken);
      expect([name, response.errors?.[0]?.extensions?.code]).toEqual([name, code]);
    }
    expect((await send('RecordUsageBatch', { events: [] }, w.merchantToken)).data?.recordUsageBatch).toEqual({ accepted: 0, duplicates: 0, refused: 0, results: [] });
    const insightsOfComputed = await send('UsageInsights', { storeId: w.store1, featureCode: 'max_products' }, w.merchantToken);
    expect(insightsOfComputed.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'featureCode' });
    expect(await eventsOf(w.merchantId)).toBe(0);
  });

  it('a full batch of 1,000 events fits the gateway body limit', async () => {
    const w = await merchant();
    const events = Array.from({ length: 1000 }, (_, i) => ({
      storeId: i % 2 ? w.store1 : w.store2, featureCode: FEATURE, quantity: 1 + (i % 50), idempotencyKey: `full-batch-${randomUUID()}-${i}`,
      ...(i % 2 ? { occurredAt: new Date(Date.now() + 1000).toISOString() } : {}),
    }));
    const response = await send('RecordUsageBatch', { events }, w.merchantToken);
    expect(response.status).toBe(200);
    expect(response.data?.recordUsageBatch).toMatchObject({ accepted: 1000, duplicates: 0, refused: 0 });
    const sum = events.reduce((s, e) => s + e.quantity, 0);
    expect(response.data?.recordUsageBatch.results.at(-1).current).toBe(sum);
    expect(await eventsOf(w.merchantId)).toBe(1000);
  });
});
