import { randomUUID } from 'node:crypto';
import type { RunningSubgraph } from '@tiergraph/runtime';
import { catalogFeatures } from '@tiergraph/catalog';
import { tenancySubgraph } from '@tiergraph/tenancy';
import {
  registerDeclarations,
  createTestDatabase,
  errorCodes,
  postGraphQL,
  startTestSubgraph,
  TEST_SUBGRAPH_HMAC_SECRET,
  startTestSubgraphs,
  tokenFor,
  type GraphQLResponse,
  type TestDatabase,
} from '@tiergraph/testkit';
import { billingSubgraph } from '../index';

let db: TestDatabase;
let billing: RunningSubgraph;
let tenancy: RunningSubgraph;
let admin: string;

async function call(url: string, query: string, variables: Record<string, unknown> = {}, token = admin): Promise<GraphQLResponse> {
  return postGraphQL(url, { query, variables }, { token });
}
async function ok(url: string, query: string, variables: Record<string, unknown> = {}, token = admin): Promise<any> {
  const response = await call(url, query, variables, token);
  if (response.errors) throw new Error(JSON.stringify(response.errors));
  return response.data;
}
const count = async (sql: string, params: unknown[] = []) => (await billing.dataSource.query(sql, params))[0].n as number;

const TIER = `mutation($input: CreateSubscriptionTierInput!) { createSubscriptionTier(input: $input) { code name isActive isPublic } }`;
const UPDATE_TIER = `mutation($code: String!, $input: UpdateSubscriptionTierInput!) { updateSubscriptionTier(code: $code, input: $input) { code name priceMonthlyCents isActive } }`;
const DELETE_TIER = `mutation($code: String!) { deleteSubscriptionTier(code: $code) }`;
const LIMITS = `mutation($t: String!, $l: [TierFeatureLimitInput!]!) { setTierFeatureLimits(tierCode: $t, limits: $l) { featureCode limitValue enabled } }`;
const OVERRIDES = `mutation($m: ID!, $p: ID!, $o: [MerchantFeatureOverrideInput!]!) { setMerchantFeatureOverrides(merchantId: $m, platformId: $p, overrides: $o) { featureCode limitValue isEnabled } }`;
const SUBSCRIBE = `mutation($m: ID!, $p: ID!, $input: UpdateMerchantSubscriptionInput!) {
  updateMerchantSubscription(merchantId: $m, platformId: $p, input: $input) {
    id status billingCycle tier { code } currentPeriodStart currentPeriodEnd trialEndsAt history { change fromStatus toStatus fromTierCode toTierCode actor } } }`;
const STATS = `{ subscriptionStats { totalSubscriptions activeSubscriptions trialSubscriptions pastDueSubscriptions cancelledSubscriptions mrrCents currency } }`;
const HAS_FEATURE = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Store { hasFeature(code: "api_access") } } }`;

/** A merchant on a platform, created through tenancy. */
async function merchant(): Promise<{ merchantId: string; platformId: string }> {
  const n = randomUUID().slice(0, 8);
  const { createPlatform } = await ok(tenancy.url, `mutation { createPlatform(input: { code: "p-${n}", name: "P" }) { id } }`);
  const { createMerchant } = await ok(tenancy.url, `mutation { createMerchant(input: { name: "Shop ${n}", email: "s-${n}@example.com" }) { id } }`);
  return { merchantId: createMerchant.id, platformId: createPlatform.id };
}

beforeAll(async () => {
  db = await createTestDatabase();
  ({ billing, tenancy } = await startTestSubgraphs({ billing: billingSubgraph, tenancy: tenancySubgraph }, db.url));
  admin = await tokenFor({ role: 'admin' });
});

afterAll(async () => {
  await Promise.all([billing?.stop(), tenancy?.stop()]);
  await db?.drop();
});

describe('tiers', () => {
  it('creates, updates and deletes a tier; refuses bad input writing nothing', async () => {
    const before = await count(`SELECT count(*)::int AS n FROM billing.subscription_tiers`);
    for (const [input, field] of [
      [{ code: 'Bad Code', name: 'x', priceMonthlyCents: 100 }, 'code'],
      [{ code: 'ok-code', name: ' ', priceMonthlyCents: 100 }, 'name'],
      [{ code: 'ok-code', name: 'x', priceMonthlyCents: -1 }, 'priceMonthlyCents'],
      [{ code: 'ok-code', name: 'x', priceMonthlyCents: 1, currency: 'euro' }, 'currency'],
      [{ code: 'essential', name: 'dup', priceMonthlyCents: 1 }, 'code'],
    ] as const) {
      const response = await call(billing.url, TIER, { input });
      expect({ field, extensions: response.errors?.[0]?.extensions }).toEqual({ field, extensions: { code: 'BAD_USER_INPUT', field } });
    }
    expect(await count(`SELECT count(*)::int AS n FROM billing.subscription_tiers`)).toBe(before);

    expect((await ok(billing.url, TIER, { input: { code: 'starter', name: 'Starter', priceMonthlyCents: 900, isPublic: false } })).createSubscriptionTier).toEqual({
      code: 'starter', name: 'Starter', isActive: true, isPublic: false,
    });
    expect((await ok(billing.url, UPDATE_TIER, { code: 'starter', input: { priceMonthlyCents: 1900, isActive: false } })).updateSubscriptionTier).toEqual({
      code: 'starter', name: 'Starter', priceMonthlyCents: 1900, isActive: false,
    });
    expect(errorCodes(await call(billing.url, UPDATE_TIER, { code: 'nope', input: { name: 'x' } }))).toEqual(['TIER_NOT_FOUND']);
    expect(errorCodes(await call(billing.url, UPDATE_TIER, { code: 'starter', input: { name: null } }))).toEqual(['BAD_USER_INPUT']);
    await ok(billing.url, LIMITS, { t: 'starter', l: [{ featureCode: 'ai_tokens_per_month', limitValue: 10, enabled: true }] });
    expect((await ok(billing.url, DELETE_TIER, { code: 'starter' })).deleteSubscriptionTier).toBe(true);
    expect(await count(`SELECT count(*)::int AS n FROM billing.tier_feature_limits l WHERE NOT EXISTS (SELECT 1 FROM billing.subscription_tiers t WHERE t.id = l.tier_id)`)).toBe(0);
    expect(errorCodes(await call(billing.url, DELETE_TIER, { code: 'starter' }))).toEqual(['TIER_NOT_FOUND']);
  });

  it('refuses to delete a tier while a subscription uses it', async () => {
    const m = await merchant();
    await ok(billing.url, TIER, { input: { code: 'in-use', name: 'In use', priceMonthlyCents: 100 } });
    await ok(billing.url, SUBSCRIBE, { m: m.merchantId, p: m.platformId, input: { tierCode: 'in-use' } });
    const refused = await call(billing.url, DELETE_TIER, { code: 'in-use' });
    expect(refused.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'code' });
    expect(await count(`SELECT count(*)::int AS n FROM billing.subscription_tiers WHERE code = 'in-use'`)).toBe(1);
  });

  it('upserts tier limits in one transaction: unlisted removed; an unknown code or a negative limit changes nothing', async () => {
    await ok(billing.url, TIER, { input: { code: 'limits-t', name: 'L', priceMonthlyCents: 100 } });
    // catalog does not run here, so only billing's and tenancy's features are declared
    await ok(billing.url, LIMITS, { t: 'limits-t', l: [{ featureCode: 'max_team_members', limitValue: 5, enabled: true }, { featureCode: 'api_access', enabled: true }] });
    const snapshot = () => billing.dataSource.query(`SELECT feature_code, limit_value, enabled FROM billing.tier_feature_limits l JOIN billing.subscription_tiers t ON t.id = l.tier_id WHERE t.code = 'limits-t' ORDER BY 1`);
    const before = await snapshot();

    const unknown = await call(billing.url, LIMITS, { t: 'limits-t', l: [{ featureCode: 'max_team_members', limitValue: 9, enabled: true }, { featureCode: 'max_products', limitValue: 1, enabled: true }] });
    expect(unknown.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'limits.1.featureCode' });
    const negative = await call(billing.url, LIMITS, { t: 'limits-t', l: [{ featureCode: 'max_team_members', limitValue: -1, enabled: true }] });
    expect(negative.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'limits.0.limitValue' });
    const twice = await call(billing.url, LIMITS, { t: 'limits-t', l: [{ featureCode: 'api_access', enabled: true }, { featureCode: 'api_access', enabled: false }] });
    expect(twice.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'limits.1.featureCode' });
    expect(errorCodes(await call(billing.url, LIMITS, { t: 'missing-tier', l: [] }))).toEqual(['TIER_NOT_FOUND']);
    expect(await snapshot()).toEqual(before);

    const saved = (await ok(billing.url, LIMITS, { t: 'limits-t', l: [{ featureCode: 'ai_tokens_per_month', limitValue: 7, enabled: true }] })).setTierFeatureLimits;
    expect(saved).toEqual([{ featureCode: 'ai_tokens_per_month', limitValue: 7, enabled: true }]);
  });
});

describe('subscriptions', () => {
  it('creates with a period that follows the cycle, records every change with its actor, and starts trials', async () => {
    const m = await merchant();
    const missingTier = await call(billing.url, SUBSCRIBE, { m: m.merchantId, p: m.platformId, input: {} });
    expect(missingTier.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'tierCode' });
    expect(errorCodes(await call(billing.url, SUBSCRIBE, { m: m.merchantId, p: m.platformId, input: { tierCode: 'gold' } }))).toEqual(['TIER_NOT_FOUND']);
    expect(errorCodes(await call(billing.url, SUBSCRIBE, { m: randomUUID(), p: m.platformId, input: { tierCode: 'essential' } }))).toEqual(['NOT_FOUND']);
    const badTrial = await call(billing.url, SUBSCRIBE, { m: m.merchantId, p: m.platformId, input: { tierCode: 'essential', trialDays: -3 } });
    expect(badTrial.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'trialDays' });
    expect(await count(`SELECT count(*)::int AS n FROM billing.merchant_subscriptions WHERE merchant_id = $1`, [m.merchantId])).toBe(0);

    const created = (await ok(billing.url, SUBSCRIBE, { m: m.merchantId, p: m.platformId, input: { tierCode: 'essential', billingCycle: 'ANNUAL', trialDays: 14 } })).updateMerchantSubscription;
    expect(created).toMatchObject({ status: 'TRIAL', billingCycle: 'ANNUAL', tier: { code: 'essential' } });
    const start = new Date(created.currentPeriodStart);
    expect(new Date(created.currentPeriodEnd).getUTCFullYear()).toBe(start.getUTCFullYear() + 1);
    expect(Math.round((Date.parse(created.trialEndsAt) - start.getTime()) / 86_400_000)).toBe(14);
    // an empty tier code is refused with its field, and changes nothing (it was a silent no-op)
    const empty = await call(billing.url, SUBSCRIBE, { m: m.merchantId, p: m.platformId, input: { tierCode: '', billingCycle: 'MONTHLY' } });
    expect(empty.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'tierCode' });
    expect(await count(`SELECT count(*)::int AS n FROM billing.merchant_subscriptions WHERE merchant_id = $1 AND billing_cycle = 'ANNUAL'`, [m.merchantId])).toBe(1);

    const changed = (await ok(billing.url, SUBSCRIBE, { m: m.merchantId, p: m.platformId, input: { tierCode: 'business', status: 'ACTIVE', billingCycle: 'MONTHLY' } })).updateMerchantSubscription;
    expect(changed.billingCycle).toBe('MONTHLY');
    expect((new Date(changed.currentPeriodEnd).getUTCMonth() - new Date(changed.currentPeriodStart).getUTCMonth() + 12) % 12).toBe(1);
    // newest first; the entries of one change in the reverse of the order they were recorded
    expect(changed.history).toEqual([
      { change: 'STATUS_CHANGE', fromStatus: 'TRIAL', toStatus: 'ACTIVE', fromTierCode: null, toTierCode: null, actor: 'admin-dev' },
      { change: 'CYCLE_CHANGE', fromStatus: null, toStatus: null, fromTierCode: null, toTierCode: null, actor: 'admin-dev' },
      { change: 'UPGRADE', fromStatus: null, toStatus: null, fromTierCode: 'essential', toTierCode: 'business', actor: 'admin-dev' },
      { change: 'CREATED', fromStatus: null, toStatus: 'TRIAL', fromTierCode: null, toTierCode: 'essential', actor: 'admin-dev' },
    ]);
  });

  it('counts MRR over ACTIVE and PAST_DUE only: the monthly price, or the annual price / 12', async () => {
    const before = (await ok(billing.url, STATS)).subscriptionStats;
    const subscribe = async (input: Record<string, unknown>) => {
      const m = await merchant();
      await ok(billing.url, SUBSCRIBE, { m: m.merchantId, p: m.platformId, input });
    };
    await subscribe({ tierCode: 'essential' }); // 4,900
    await subscribe({ tierCode: 'professional', billingCycle: 'ANNUAL', status: 'PAST_DUE' }); // 99,000 / 12 = 8,250
    await subscribe({ tierCode: 'business', trialDays: 30 }); // trial: not revenue
    await subscribe({ tierCode: 'enterprise', status: 'CANCELLED' }); // cancelled: not revenue
    const after = (await ok(billing.url, STATS)).subscriptionStats;
    expect({
      total: after.totalSubscriptions - before.totalSubscriptions,
      active: after.activeSubscriptions - before.activeSubscriptions,
      trial: after.trialSubscriptions - before.trialSubscriptions,
      pastDue: after.pastDueSubscriptions - before.pastDueSubscriptions,
      cancelled: after.cancelledSubscriptions - before.cancelledSubscriptions,
      mrr: after.mrrCents - before.mrrCents,
      currency: after.currency,
    }).toEqual({ total: 4, active: 1, trial: 1, pastDue: 1, cancelled: 1, mrr: 13_150, currency: 'EUR' });
  });

  it('keeps overrides per merchant: an unknown merchant is NOT_FOUND, an unknown feature BAD_USER_INPUT, nothing half-written', async () => {
    const m = await merchant();
    await ok(billing.url, OVERRIDES, { m: m.merchantId, p: m.platformId, o: [{ featureCode: 'ai_tokens_per_month', limitValue: 3, isEnabled: true }] });
    const refused = await call(billing.url, OVERRIDES, { m: m.merchantId, p: m.platformId, o: [{ featureCode: 'ai_tokens_per_month', limitValue: 4, isEnabled: true }, { featureCode: 'bogus', isEnabled: true }] });
    expect(refused.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'overrides.1.featureCode' });
    expect(await billing.dataSource.query(`SELECT feature_code, limit_value FROM billing.merchant_feature_overrides WHERE merchant_id = $1`, [m.merchantId])).toEqual([
      { feature_code: 'ai_tokens_per_month', limit_value: 3 },
    ]);
    expect(errorCodes(await call(billing.url, OVERRIDES, { m: randomUUID(), p: m.platformId, o: [] }))).toEqual(['NOT_FOUND']);
  });

  it('keeps admin operations and the internal endpoints to their roles', async () => {
    const m = await merchant();
    const merchantToken = await tokenFor({ role: 'merchant', merchantId: m.merchantId });
    const service = await tokenFor({ role: 'service' });
    expect(errorCodes(await call(billing.url, SUBSCRIBE, { m: m.merchantId, p: m.platformId, input: { tierCode: 'enterprise' } }, merchantToken))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await call(billing.url, OVERRIDES, { m: m.merchantId, p: m.platformId, o: [] }, merchantToken))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await call(billing.url, STATS, {}, merchantToken))).toEqual(['FORBIDDEN']);
    const entitlements = `query($m: ID!, $p: ID!) { entitlements(merchantId: $m, platformId: $p) { active } }`;
    expect(errorCodes(await call(billing.url, entitlements, { m: m.merchantId, p: m.platformId }, merchantToken))).toEqual(['FORBIDDEN']);
    expect((await ok(billing.url, entitlements, { m: m.merchantId, p: m.platformId }, service)).entitlements).toEqual({ active: false });
    const register = `mutation { registerFeatures(owner: "catalog", features: [{ code: "max_team_members", name: "x", description: "", category: "limits", featureType: QUANTITATIVE, scope: MERCHANT, displayOrder: 1 }]) }`;
    expect(errorCodes(await call(billing.url, register, {}, merchantToken))).toEqual(['FORBIDDEN']);
    // a code another owner declared cannot be taken over
    const asCatalog = await tokenFor({ role: 'service', sub: 'catalog' });
    expect((await call(billing.url, register, {}, asCatalog)).errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'features.0.code' });
  });
});

describe('admin mutations refuse every other role', () => {
  const snapshot = async () => ({
    tiers: await billing.dataSource.query(`SELECT * FROM billing.subscription_tiers ORDER BY code`),
    limits: await billing.dataSource.query(`SELECT * FROM billing.tier_feature_limits ORDER BY tier_id, feature_code`),
    overrides: await billing.dataSource.query(`SELECT * FROM billing.merchant_feature_overrides ORDER BY merchant_id, platform_id, feature_code`),
    subscriptions: await billing.dataSource.query(`SELECT * FROM billing.merchant_subscriptions ORDER BY id`),
  });

  it.each(['merchant', 'store', 'service'] as const)('%s: FORBIDDEN for each admin mutation, with valid input, and nothing written', async (role) => {
    const m = await merchant();
    const { createStore } = await ok(tenancy.url, `mutation($m: ID!, $p: ID!) { createStore(input: { merchantId: $m, platformId: $p, code: "guarded", name: "S" }) { id } }`, {
      m: m.merchantId,
      p: m.platformId,
    });
    const tierCode = `guarded-${role}`;
    // a tier the caller could change or delete if the guard were missing: unused, with a limit
    await ok(billing.url, TIER, { input: { code: tierCode, name: 'Guarded', priceMonthlyCents: 500 } });
    await ok(billing.url, LIMITS, { t: tierCode, l: [{ featureCode: 'ai_tokens_per_month', limitValue: 10, enabled: true }] });
    await ok(billing.url, SUBSCRIBE, { m: m.merchantId, p: m.platformId, input: { tierCode: 'essential', status: 'ACTIVE' } });
    const token = {
      merchant: await tokenFor({ role: 'merchant', merchantId: m.merchantId }),
      store: await tokenFor({ role: 'store', merchantId: m.merchantId, storeId: createStore.id }),
      service: await tokenFor({ role: 'service' }),
    }[role];
    const attempts: Array<[string, string, Record<string, unknown>]> = [
      ['createSubscriptionTier', TIER, { input: { code: `new-${role}`, name: 'New', priceMonthlyCents: 100 } }],
      ['updateSubscriptionTier', UPDATE_TIER, { code: tierCode, input: { name: 'Taken over', priceMonthlyCents: 1 } }],
      ['setTierFeatureLimits', LIMITS, { t: tierCode, l: [{ featureCode: 'ai_tokens_per_month', limitValue: 999999, enabled: true }] }],
      ['setMerchantFeatureOverrides', OVERRIDES, { m: m.merchantId, p: m.platformId, o: [{ featureCode: 'ai_tokens_per_month', limitValue: 999999, isEnabled: true }] }],
      ['updateMerchantSubscription', SUBSCRIBE, { m: m.merchantId, p: m.platformId, input: { tierCode: 'enterprise' } }],
      ['deleteSubscriptionTier', DELETE_TIER, { code: tierCode }],
    ];
    const before = await snapshot();
    const outcomes: Record<string, unknown> = {};
    for (const [name, query, variables] of attempts) {
      const response = await call(billing.url, query, variables, token);
      outcomes[name] = { codes: errorCodes(response), data: response.data?.[name] ?? null };
    }
    expect(outcomes).toEqual(Object.fromEntries(attempts.map(([name]) => [name, { codes: ['FORBIDDEN'], data: null }])));
    expect(await snapshot()).toEqual(before);
    // the same calls as admin do go through: the refusals above are the role's, not the input's
    for (const [name, query, variables] of attempts) expect(errorCodes(await call(billing.url, query, variables, admin))).toEqual([]);
  });
});

describe('entitlement caches across instances (LISTEN/NOTIFY)', () => {
  let billingB: RunningSubgraph;
  let tenancyB: RunningSubgraph;

  beforeAll(async () => {
    [billingB, tenancyB] = await Promise.all([
      // signed like the first instances (startTestSubgraphs), whose _entities they call
      startTestSubgraph(billingSubgraph, db.url, { urls: { tenancy: tenancy.url }, signatureSecret: TEST_SUBGRAPH_HMAC_SECRET }),
      startTestSubgraph(tenancySubgraph, db.url, { urls: { billing: billing.url }, signatureSecret: TEST_SUBGRAPH_HMAC_SECRET }),
    ]);
  });

  afterAll(async () => {
    await Promise.all([billingB?.stop(), tenancyB?.stop()]);
  });

  it('a change made through one billing instance is seen by the next request to every instance of billing and tenancy', async () => {
    const m = await merchant();
    const { createStore } = await ok(tenancy.url, `mutation($m: ID!, $p: ID!) { createStore(input: { merchantId: $m, platformId: $p, code: "main", name: "Main" }) { id } }`, { m: m.merchantId, p: m.platformId });
    await ok(billing.url, SUBSCRIBE, { m: m.merchantId, p: m.platformId, input: { tierCode: 'essential' } });
    const store = { __typename: 'Store', id: createStore.id, ...m };
    const addMember = (url: string, email: string) =>
      call(url, `mutation($s: ID!, $e: String!) { addStoreUser(input: { storeId: $s, email: $e, role: MEMBER }) { id } }`, { s: createStore.id, e: email });

    // prime both instances' caches with the essential plan: no API access, one team member
    for (const url of [billing.url, billingB.url]) expect((await ok(url, HAS_FEATURE, { r: [store] }))._entities).toEqual([{ hasFeature: false }]);
    expect(errorCodes(await addMember(tenancy.url, 'a@example.com'))).toEqual([]);
    for (const url of [tenancy.url, tenancyB.url]) {
      expect((await addMember(url, `refused-${url.length}@example.com`)).errors?.[0]?.extensions).toMatchObject({ code: 'FEATURE_LIMIT_REACHED', limit: 1 });
    }

    await ok(billing.url, OVERRIDES, {
      m: m.merchantId,
      p: m.platformId,
      o: [{ featureCode: 'api_access', isEnabled: true }, { featureCode: 'max_team_members', limitValue: 3, isEnabled: true }],
    });

    expect((await ok(billingB.url, HAS_FEATURE, { r: [store] }))._entities).toEqual([{ hasFeature: true }]);
    expect(errorCodes(await addMember(tenancyB.url, 'b@example.com'))).toEqual([]);
    expect(errorCodes(await addMember(tenancy.url, 'c@example.com'))).toEqual([]);
    expect((await addMember(tenancyB.url, 'd@example.com')).errors?.[0]?.extensions).toMatchObject({ code: 'FEATURE_LIMIT_REACHED', current: 3, limit: 3 });

    // a tier change is a change too
    await ok(billingB.url, SUBSCRIBE, { m: m.merchantId, p: m.platformId, input: { status: 'CANCELLED' } });
    expect(errorCodes(await addMember(tenancy.url, 'e@example.com'))).toEqual(['SUBSCRIPTION_INACTIVE']);
  });
});

describe('representations sent straight to billing', () => {
  const STORE_FIELDS = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Store { subscription { status } addOns { id } } } }`;
  const FEATURE = `query($r: [_Any!]!, $code: String!) { _entities(representations: $r) { ... on Store { hasFeature(code: $code) } } }`;

  async function storeOf(m: { merchantId: string; platformId: string }, code: string): Promise<string> {
    const { createStore } = await ok(tenancy.url, `mutation($m: ID!, $p: ID!, $c: String!) { createStore(input: { merchantId: $m, platformId: $p, code: $c, name: "S" }) { id } }`, { m: m.merchantId, p: m.platformId, c: code });
    return createStore.id;
  }

  it('refuses a store user who names another platform of its merchant, and lists no add-ons of a store the merchant does not own', async () => {
    const a = await merchant();
    const otherPlatform = (await ok(tenancy.url, `mutation { createPlatform(input: { code: "other-${randomUUID().slice(0, 8)}", name: "O" }) { id } }`)).createPlatform.id;
    const storeA = await storeOf(a, 'a-store');
    await ok(billing.url, SUBSCRIBE, { m: a.merchantId, p: otherPlatform, input: { tierCode: 'enterprise' } });
    const storeUser = await tokenFor({ role: 'store', merchantId: a.merchantId, storeId: storeA });
    const forged = await call(billing.url, STORE_FIELDS, { r: [{ __typename: 'Store', id: storeA, merchantId: a.merchantId, platformId: otherPlatform }] }, storeUser);
    expect(errorCodes(forged)).toContain('FORBIDDEN');
    expect(forged.data?._entities?.[0]?.subscription ?? null).toBeNull();

    const b = await merchant();
    const storeB = await storeOf(b, 'b-store');
    await billing.dataSource.query(`INSERT INTO billing.store_add_ons (store_id, merchant_id, add_on_code, status) VALUES ($1, $2, 'domain', 'active')`, [storeB, b.merchantId]);
    const merchantA = await tokenFor({ role: 'merchant', merchantId: a.merchantId });
    const borrowed = await ok(billing.url, `query($r: [_Any!]!) { _entities(representations: $r) { ... on Store { addOns { id } } } }`, { r: [{ __typename: 'Store', id: storeB, merchantId: a.merchantId, platformId: a.platformId }] }, merchantA);
    expect(borrowed._entities).toEqual([{ addOns: [] }]);
    const own = await ok(billing.url, `query($r: [_Any!]!) { _entities(representations: $r) { ... on Store { addOns { id } } } }`, { r: [{ __typename: 'Store', id: storeB, merchantId: b.merchantId, platformId: b.platformId }] });
    expect(own._entities[0].addOns).toHaveLength(1);
  });

  it('answers NOT_FOUND, not a failed cast, for ids that are not uuids, and BAD_USER_INPUT for an unknown feature code', async () => {
    const bad = await call(billing.url, FEATURE, { r: [{ __typename: 'Store', id: 'nope', merchantId: 'x', platformId: 'y' }], code: 'api_access' });
    expect(errorCodes(bad)).toEqual(['NOT_FOUND']);
    const m = await merchant();
    const store = await storeOf(m, 'feature-store');
    const unknown = await call(billing.url, FEATURE, { r: [{ __typename: 'Store', id: store, ...m }], code: 'teleportation' });
    expect(unknown.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'code' });
    const entitlements = await call(billing.url, `{ entitlements(merchantId: "x", platformId: "y") { active } }`, {}, await tokenFor({ role: 'service' }));
    expect(errorCodes(entitlements)).toEqual(['NOT_FOUND']);
  });

  it('takes ids in upper case as the same ids: the change reaches the caches', async () => {
    const m = await merchant();
    const store = await storeOf(m, 'upper-store');
    await ok(billing.url, SUBSCRIBE, { m: m.merchantId.toUpperCase(), p: m.platformId.toUpperCase(), input: { tierCode: 'essential' } });
    const ask = async () => (await ok(billing.url, FEATURE, { r: [{ __typename: 'Store', id: store, ...m }], code: 'api_access' }))._entities[0].hasFeature;
    expect(await ask()).toBe(false);
    await ok(billing.url, OVERRIDES, { m: m.merchantId.toUpperCase(), p: m.platformId.toUpperCase(), o: [{ featureCode: 'api_access', isEnabled: true }] });
    expect(await ask()).toBe(true);
    expect(await count(`SELECT count(*)::int AS n FROM billing.merchant_subscriptions WHERE merchant_id = $1`, [m.merchantId])).toBe(1);
  });

  it('keeps a feature declared by one owner from being taken over by another, and a service token to its own name', async () => {
    const register = (owner: string) =>
      `mutation { registerFeatures(owner: "${owner}", features: [{ code: "max_team_members", name: "x", description: "", category: "limits", featureType: QUANTITATIVE, scope: MERCHANT, displayOrder: 1 }]) }`;
    expect((await call(billing.url, register('catalog'), {}, await tokenFor({ role: 'service', sub: 'catalog' }))).errors?.[0]?.extensions).toEqual({
      code: 'BAD_USER_INPUT',
      field: 'features.0.code',
    });
    expect(errorCodes(await call(billing.url, register('tenancy'), {}, await tokenFor({ role: 'service', sub: 'catalog' })))).toEqual(['FORBIDDEN']);
    // declarations are the owner's word: an admin does not speak for a subgraph
    expect(errorCodes(await call(billing.url, register('tenancy'), {}, admin))).toEqual(['FORBIDDEN']);
    const [{ owner }] = await billing.dataSource.query(`SELECT owner FROM billing.feature_declarations WHERE code = 'max_team_members'`);
    expect(owner).toBe('tenancy');
  });

  it('never drops a declaration that tier limits or overrides use: an owner withdrawing it is refused and nothing changes', async () => {
    await registerDeclarations(billing.url, 'catalog', catalogFeatures);
    const before = await billing.dataSource.query(`SELECT code, owner FROM billing.feature_declarations ORDER BY code`);
    expect(before).toContainEqual({ code: 'max_products', owner: 'catalog' });
    const asCatalog = await tokenFor({ role: 'service', sub: 'catalog' });
    // the reference tiers limit max_products: catalog declaring nothing would erase it from every FeatureSummary
    const withdraw = await call(billing.url, `mutation { registerFeatures(owner: "catalog", features: []) }`, {}, asCatalog);
    expect(withdraw.errors?.map((e) => [e.extensions?.code, e.extensions?.field])).toEqual([['BAD_USER_INPUT', 'features']]);
    expect(withdraw.errors?.[0].message).toMatch(/^max_products would be withdrawn but tier limits or merchant overrides use it/);
    expect(await billing.dataSource.query(`SELECT code, owner FROM billing.feature_declarations ORDER BY code`)).toEqual(before);
  });
});
