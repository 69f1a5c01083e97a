import { billingSubgraph } from '@tiergraph/billing';
import { Client } from 'pg';
import { createWorld, eventually, postGraphQL, recordSqlStatements, startTestSubgraph, tokenFor, TEST_SUBGRAPH_HMAC_SECRET, type World } from '@tiergraph/testkit';
import { contractCaller, startTestGraph, type TestGraph } from './graph';

let graph: TestGraph;
let admin: string;
let world: World;
/** Plain SQL, on a connection of the test's own (no subgraph's code runs, nothing notified by hand). */
let sql: Client;
const { ok, send } = contractCaller(() => graph, () => admin);

type Feature = { code: string; limit: number | null; current: number | null; isOverride: boolean };
const featuresOf = async (merchantId: string) => {
  const { merchant } = await ok('MerchantFeatures', { merchantId, platformId: world.platformId });
  return { tier: merchant.subscription.tier, features: Object.fromEntries((merchant.subscription.features as Feature[]).map((f) => [f.code, f])) };
};
const essentialLimit = async (code: string): Promise<number | null> =>
  (await sql.query<{ limit_value: number | null }>(
    `SELECT l.limit_value FROM billing.tier_feature_limits l JOIN billing.subscription_tiers t ON t.id = l.tier_id WHERE t.code = 'essential' AND l.feature_code = $1`,
    [code],
  )).rows[0].limit_value;

beforeAll(async () => {
  graph = await startTestGraph();
  sql = new Client({ connectionString: graph.db.url });
  await sql.connect();
  admin = await tokenFor({ role: 'admin' });
  world = await createWorld({ tenancy: graph.subgraphs.tenancy.url, billing: graph.subgraphs.billing.url });
  // m1: an override and metered usage in the current period, both read by the features fetch's one statement
  await ok('SetMerchantFeatureOverrides', { merchantId: world.m1, platformId: world.platformId, overrides: [{ featureCode: 'max_products', limitValue: 7, isEnabled: true }] });
  await ok('RecordUsage', { input: { storeId: world.s1, featureCode: 'ai_tokens_per_month', quantity: 1234, idempotencyKey: 'k1' } });
  await ok('RecordUsage', { input: { storeId: world.s1b, featureCode: 'ai_tokens_per_month', quantity: 66, idempotencyKey: 'k2' } });
});

afterAll(async () => {
  await sql?.end();
  await graph?.stop();
});

describe('MerchantFeatures, uncached by the gateway', () => {
  it('runs 8 SQL statements: tenancy 2, billing 3 (tiers and limits from its process, overrides and metered totals with the subscription), each counter 1', async () => {
    await featuresOf(world.m1); // the processes' caches (feature catalog, tiers) filled
    const { statements, stop } = recordSqlStatements();
    let answer;
    try {
      answer = await featuresOf(world.m1);
    } finally {
      stop();
    }
    // the change listeners' heartbeat is not the request's
    const sent = statements.filter((s) => s.trim() !== 'SELECT 1');
    const schemaOf = (sql: string) => /"?(tenancy|billing|catalog|orders|media)"?\./.exec(sql)?.[1] ?? 'other';
    const perSchema: Record<string, number> = {};
    for (const sql of sent) perSchema[schemaOf(sql)] = (perSchema[schemaOf(sql)] ?? 0) + 1;
    expect(perSchema).toEqual({ tenancy: 2, billing: 3, catalog: 1, orders: 1, media: 1 });
    expect(sent).toHaveLength(8);
    // billing: the subscription, its history, then (features) the subscription with its overrides and metered totals
    expect(sent.filter((s) => /subscription_tiers|tier_feature_limits/.test(s))).toEqual([]);

    // and what those rows say: the override, the tier's other limits, the period's metered total of both stores
    expect(answer.tier).toEqual({ code: 'essential', name: 'Essential' });
    expect(answer.features.max_products).toMatchObject({ limit: 7, isOverride: true, current: 0 });
    expect(answer.features.max_orders_per_month).toMatchObject({ limit: await essentialLimit('max_orders_per_month'), isOverride: false });
    expect(answer.features.ai_tokens_per_month).toMatchObject({ current: 1300, limit: await essentialLimit('ai_tokens_per_month'), isOverride: false });
    // m2: no override, no usage
    const other = await featuresOf(world.m2);
    expect(other.features.max_products).toMatchObject({ limit: await essentialLimit('max_products'), isOverride: false, current: 0 });
    expect(other.features.ai_tokens_per_month).toMatchObject({ current: 0 });
  });

  it('sees a tier limit and a tier name changed by plain SQL in the next request (the tables’ trigger NOTIFYs billing’s tier catalog)', async () => {
    const before = await essentialLimit('max_products');
    expect((await featuresOf(world.m2)).features.max_products.limit).toBe(before); // kept by billing's process now
    await sql.query(
      `UPDATE billing.tier_feature_limits SET limit_value = 4321 WHERE feature_code = 'max_products' AND tier_id = (SELECT id FROM billing.subscription_tiers WHERE code = 'essential')`,
    );
    try {
      // the NOTIFY is delivered on commit: the next request may overtake it by a moment, never by more
      expect((await eventually(() => featuresOf(world.m2), (a) => a.features.max_products.limit === 4321, 2000)).features.max_products.limit).toBe(4321);
      await sql.query(`UPDATE billing.subscription_tiers SET name = 'Essential (renamed)' WHERE code = 'essential'`);
      expect((await eventually(() => featuresOf(world.m2), (a) => a.tier.name !== 'Essential', 2000)).tier).toEqual({ code: 'essential', name: 'Essential (renamed)' });
    } finally {
      await sql.query(`UPDATE billing.subscription_tiers SET name = 'Essential' WHERE code = 'essential'`);
      await sql.query(
        `UPDATE billing.tier_feature_limits SET limit_value = $1 WHERE feature_code = 'max_products' AND tier_id = (SELECT id FROM billing.subscription_tiers WHERE code = 'essential')`,
        [before],
      );
    }
    expect((await eventually(() => featuresOf(world.m2), (a) => a.features.max_products.limit === before, 2000)).features.max_products.limit).toBe(before);
  });

  it('sees tier limits set through another billing process, and through its own at once', async () => {
    const { rows: limits } = await sql.query<{ featureCode: string; limitValue: number | null; enabled: boolean }>(
      `SELECT l.feature_code AS "featureCode", l.limit_value AS "limitValue", l.enabled FROM billing.tier_feature_limits l
         JOIN billing.subscription_tiers t ON t.id = l.tier_id WHERE t.code = 'essential' ORDER BY l.feature_code`,
    );
    const withProducts = (n: number | null) => limits.map((l) => (l.featureCode === 'max_products' ? { ...l, limitValue: n } : l));
    const other = await startTestSubgraph(billingSubgraph, graph.db.url, {
      urls: Object.fromEntries(Object.entries(graph.subgraphs).map(([name, s]) => [name, s.url])),
      signatureSecret: TEST_SUBGRAPH_HMAC_SECRET,
    });
    const setLimits = (url: string, n: number | null) =>
      postGraphQL(url, { query: `mutation($l: [TierFeatureLimitInput!]!) { setTierFeatureLimits(tierCode: "essential", limits: $l) { featureCode } }`, variables: { l: withProducts(n) } }, { token: admin });
    try {
      expect((await featuresOf(world.m2)).features.max_products.limit).toBe(await essentialLimit('max_products'));
      expect((await setLimits(other.url, 555)).errors).toBeUndefined();
      // another process's write reaches this billing by NOTIFY, delivered on commit
      expect((await eventually(() => featuresOf(world.m2), (a) => a.features.max_products.limit === 555, 2000)).features.max_products.limit).toBe(555);
      // through the gateway's own billing: dropped before the answer
      await ok('SetTierFeatureLimits', { tierCode: 'essential', limits: withProducts(556) });
      expect((await featuresOf(world.m2)).features.max_products.limit).toBe(556);
    } finally {
      await setLimits(graph.subgraphs.billing.url, limits.find((l) => l.featureCode === 'max_products')!.limitValue);
      await other.stop();
    }
  });

  it('enforces a limit from the tables, not from the tier catalog that answers (a change the catalog never heard of)', async () => {
    const code = 'ai_tokens_per_month';
    const before = await essentialLimit(code);
    expect((await featuresOf(world.m2)).features[code]).toMatchObject({ limit: before, current: 0 }); // kept by billing's process now
    const setLimit = `UPDATE billing.tier_feature_limits SET limit_value = $1 WHERE feature_code = $2 AND tier_id = (SELECT id FROM billing.subscription_tiers WHERE code = 'essential')`;
    // with this session's triggers off, no NOTIFY: billing's tier catalog keeps the old limit
    await sql.query('SET session_replication_role = replica');
    await sql.query(setLimit, [5, code]);
    await sql.query('SET session_replication_role = DEFAULT');
    try {
      const refused = await send('RecordUsage', { input: { storeId: world.s2, featureCode: code, quantity: 6, idempotencyKey: 'over-the-new-limit' } });
      expect(refused.errors?.[0].extensions).toMatchObject({ code: 'FEATURE_LIMIT_REACHED', limit: 5 });
      // the premise: the answers' catalog had not heard of it, so the refusal above did not come from it
      expect((await featuresOf(world.m2)).features[code]).toMatchObject({ limit: before, current: 0 });
    } finally {
      await sql.query(setLimit, [before, code]); // with the trigger: the catalog drops what it kept
    }
    expect((await eventually(() => featuresOf(world.m2), (a) => a.features[code].limit === before, 2000)).features[code].current).toBe(0);
  });
});
