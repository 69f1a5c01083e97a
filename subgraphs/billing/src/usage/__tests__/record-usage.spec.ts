import { randomUUID } from 'node:crypto';
import type { RunningSubgraph } from '@tiergraph/runtime';
import { tenancySubgraph } from '@tiergraph/tenancy';
import {
  createTestDatabase,
  createWorld,
  errorCodes,
  overrideLimit,
  postGraphQL,
  startTestSubgraphs,
  subscribe,
  tokenFor,
  withInsertsHeld,
  type GraphQLResponse,
  type TestDatabase,
  type World,
} from '@tiergraph/testkit';
import { PostgresQueryRunner } from 'typeorm/driver/postgres/PostgresQueryRunner';
import { PlanReader } from '../../entitlements/plan-reader';
import { createBillingSubgraph } from '../../index';
import { noStripe } from '../../payments/stripe-settings';

const FEATURE = 'ai_tokens_per_month';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Billing's clock: fixed, moved by the tests. */
let now = new Date('2026-03-10T12:00:00.000Z');

const RECORD = `mutation($input: RecordUsageInput!) { recordUsage(input: $input) { featureCode accepted duplicate current limit remaining } }`;
const BATCH = `mutation($events: [RecordUsageInput!]!) { recordUsageBatch(events: $events) {
  accepted duplicates refused results { idempotencyKey accepted duplicate errorCode errorField current limit remaining } } }`;
const FEATURES = `query($r: [_Any!]!) { _entities(representations: $r) { ... on MerchantSubscription { features { code current limit remaining percentUsed } } } }`;
const STORE_USAGE = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Store { usage { code current limit percentage isAtLimit } } } }`;
const HISTORY = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Store {
  usageHistory(featureCode: "${FEATURE}") { featureCode periodStart periodEnd used allocated events peakDay peakDayQuantity tierCode } } } }`;
const ALERTS = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Store {
  usageInsights(featureCode: "${FEATURE}") { used allocated usageAlertHistory { threshold used allocated } } } } }`;

let db: TestDatabase;
let running: Record<'billing' | 'tenancy', RunningSubgraph>;
const urls = () => ({ billing: running.billing.url, tenancy: running.tenancy.url });

beforeAll(async () => {
  db = await createTestDatabase();
  const billing = createBillingSubgraph({ stripe: noStripe, clock: () => now, usage: { lateGraceHours: 24 } });
  running = await startTestSubgraphs({ billing, tenancy: tenancySubgraph }, db.url);
});

afterAll(async () => {
  PostgresQueryRunner.prototype.query = originalQuery;
  await Promise.all([running?.billing.stop(), running?.tenancy.stop()]);
  await db?.drop();
});

beforeEach(() => {
  now = new Date('2026-03-10T12:00:00.000Z');
});

const call = (query: string, variables: Record<string, unknown>, token: string): Promise<GraphQLResponse> => postGraphQL(running.billing.url, { query, variables }, { token });
const record = (w: World, input: Record<string, unknown>, token = w.tokens.merchant1) => call(RECORD, { input: { storeId: w.s1, featureCode: FEATURE, ...input } }, token);
const batch = (events: Array<Record<string, unknown>>, token: string) => call(BATCH, { events }, token);
const key = () => randomUUID();

async function sql<T = any>(query: string, params: unknown[] = []): Promise<T[]> {
  return running.billing.dataSource.query(query, params);
}
/** What is stored for the merchant: events, their sum, and the period totals. */
async function stored(merchantId: string) {
  const [events] = await sql(`SELECT count(*)::int AS n, coalesce(sum(quantity), 0)::int AS sum FROM billing.usage_events WHERE merchant_id = $1`, [merchantId]);
  const totals = await sql(`SELECT used::int, events FROM billing.usage_period_totals WHERE merchant_id = $1 ORDER BY period_start`, [merchantId]);
  const daily = await sql(`SELECT coalesce(sum(quantity), 0)::int AS sum FROM billing.usage_daily_totals WHERE merchant_id = $1`, [merchantId]);
  return { events: events.n, sum: events.sum, totals, daily: daily[0].sum };
}

async function world(limit?: number | null): Promise<World> {
  const w = await createWorld(urls());
  if (limit !== undefined) await overrideLimit(urls().billing, w.m1, w.platformId, FEATURE, limit);
  // five days into the subscription's first period
  now = new Date(now.getTime() + 5 * DAY);
  return w;
}

async function meteredFeature(w: World) {
  const response = await call(FEATURES, { r: [{ __typename: 'MerchantSubscription', merchantId: w.m1, platformId: w.platformId }] }, w.tokens.merchant1);
  return response.data?._entities[0].features.find((f: { code: string }) => f.code === FEATURE);
}

const storeRef = (w: World, store = w.s1) => ({ __typename: 'Store', id: store, merchantId: w.m1, platformId: w.platformId });

describe('recordUsage', () => {
  it('records, answers current, limit and remaining, and shows the tokens in FeatureSummary and Store.usage', async () => {
    const w = await world();
    const first = await record(w, { quantity: 1200, idempotencyKey: key() });
    expect(first.data?.recordUsage).toEqual({ featureCode: FEATURE, accepted: true, duplicate: false, current: 1200, limit: 100000, remaining: 98800 });
    const second = await record(w, { storeId: w.s1b, quantity: 800, idempotencyKey: key() }, w.tokens.store1b);
    expect(second.data?.recordUsage).toMatchObject({ current: 2000, remaining: 98000 });

    expect(await meteredFeature(w)).toEqual({ code: FEATURE, current: 2000, limit: 100000, remaining: 98000, percentUsed: 2 });
    // Store.usage reads the store's plan once: the summary is made from the plan that found the subscription
    const planReads = jest.spyOn(PlanReader.prototype, 'planOf');
    let planReadCount = 0;
    const usage = await call(STORE_USAGE, { r: [storeRef(w)] }, w.tokens.store1).finally(() => {
      planReadCount = planReads.mock.calls.length;
      planReads.mockRestore();
    });
    expect(usage.data?._entities[0].usage.find((u: { code: string }) => u.code === FEATURE)).toEqual({ code: FEATURE, current: 2000, limit: 100000, percentage: 2, isAtLimit: false });
    expect(planReadCount).toBe(1);
    // another merchant's summary is untouched
    const other = await call(FEATURES, { r: [{ __typename: 'MerchantSubscription', merchantId: w.m2, platformId: w.platformId }] }, w.tokens.merchant2);
    expect(other.data?._entities[0].features.find((f: { code: string }) => f.code === FEATURE)).toMatchObject({ current: 0 });
    expect(await stored(w.m1)).toEqual({ events: 2, sum: 2000, totals: [{ used: 2000, events: 2 }], daily: 2000 });
  });

  it('10 concurrent deliveries of one key have one effect', async () => {
    const w = await world();
    const k = key();
    const results = await Promise.all(Array.from({ length: 10 }, () => record(w, { quantity: 700, idempotencyKey: k, occurredAt: now.toISOString() })));
    const answers = results.map((r) => r.data?.recordUsage);
    expect(answers.filter((a) => a && !a.duplicate)).toHaveLength(1);
    expect(answers.filter((a) => a?.duplicate)).toHaveLength(9);
    for (const a of answers) expect(a).toMatchObject({ accepted: true, current: 700, remaining: 99300 });
    expect(await stored(w.m1)).toEqual({ events: 1, sum: 700, totals: [{ used: 700, events: 1 }], daily: 700 });
  });

  it('the same key with another quantity, store or time is BAD_USER_INPUT on idempotencyKey and changes nothing', async () => {
    const w = await world();
    const k = key();
    await record(w, { quantity: 100, idempotencyKey: k, occurredAt: new Date(now.getTime() - HOUR).toISOString() });
    const before = await stored(w.m1);
    for (const change of [{ quantity: 101 }, { storeId: w.s1b }, { occurredAt: new Date(now.getTime() - 2 * HOUR).toISOString() }]) {
      const refused = await record(w, { quantity: 100, idempotencyKey: k, occurredAt: new Date(now.getTime() - HOUR).toISOString(), ...change });
      expect([change, refused.errors?.[0]?.extensions]).toEqual([change, { code: 'BAD_USER_INPUT', field: 'idempotencyKey' }]);
      expect(refused.data).toBeNull();
    }
    // a repeat that names no time is the same event
    expect((await record(w, { quantity: 100, idempotencyKey: k })).data?.recordUsage).toMatchObject({ duplicate: true, current: 100 });
    expect(await stored(w.m1)).toEqual(before);
  });

  it('50 racing events with room for exactly 7 accept exactly 7, and the total is their sum', async () => {
    const w = await world(1000);
    await record(w, { quantity: 930, idempotencyKey: key() });
    // inserts wait until all 5 of billing's connections are inside their transaction: without the lock each has read
    // the same total, so every one of them would accept
    const results = await withInsertsHeld(db.url, 'billing.usage_events', 5, () =>
      Promise.all(Array.from({ length: 50 }, (_, i) => record(w, { quantity: 10, idempotencyKey: `race-${i}` }, i % 2 ? w.tokens.merchant1 : w.tokens.store1))),
    );
    const accepted = results.filter((r) => r.data?.recordUsage?.accepted);
    const refused = results.filter((r) => r.errors);
    expect(accepted).toHaveLength(7);
    expect(refused).toHaveLength(43);
    for (const r of refused) expect(r.errors?.[0].extensions).toEqual({ code: 'FEATURE_LIMIT_REACHED', featureCode: FEATURE, current: 1000, limit: 1000 });
    expect(await stored(w.m1)).toEqual({ events: 8, sum: 1000, totals: [{ used: 1000, events: 8 }], daily: 1000 });
    expect((await meteredFeature(w))).toMatchObject({ current: 1000, remaining: 0, percentUsed: 100 });
  });

  it('refuses bad input with a coded error and writes nothing', async () => {
    const w = await world();
    const cases: Array<[string, Record<string, unknown>, string, string | undefined, string?]> = [
      ['zero quantity', { quantity: 0 }, 'BAD_USER_INPUT', 'quantity'],
      ['negative quantity', { quantity: -5 }, 'BAD_USER_INPUT', 'quantity'],
      ['empty key', { quantity: 1, idempotencyKey: '' }, 'BAD_USER_INPUT', 'idempotencyKey'],
      ['long key', { quantity: 1, idempotencyKey: 'k'.repeat(201) }, 'BAD_USER_INPUT', 'idempotencyKey'],
      ['unknown feature', { quantity: 1, featureCode: 'no_such_feature' }, 'BAD_USER_INPUT', 'featureCode'],
      ['computed feature', { quantity: 1, featureCode: 'max_team_members' }, 'BAD_USER_INPUT', 'featureCode'],
      ['binary feature', { quantity: 1, featureCode: 'api_access' }, 'BAD_USER_INPUT', 'featureCode'],
      ['6 minutes ahead', { quantity: 1, occurredAt: new Date(now.getTime() + 6 * 60_000).toISOString() }, 'BAD_USER_INPUT', 'occurredAt'],
      ['not a date', { quantity: 1, occurredAt: 'yesterday' }, 'BAD_USER_INPUT', 'input'],
      ['before the subscription', { quantity: 1, occurredAt: new Date(now.getTime() - 6 * DAY).toISOString() }, 'BAD_USER_INPUT', 'occurredAt'],
      ['before the period, no grace', { quantity: 1, occurredAt: new Date(now.getTime() - 40 * DAY).toISOString() }, 'BAD_USER_INPUT', 'occurredAt'],
      ['unknown store', { quantity: 1, storeId: randomUUID() }, 'NOT_FOUND', undefined],
      ['malformed store', { quantity: 1, storeId: 'not-a-uuid' }, 'NOT_FOUND', undefined],
      ["another merchant's store", { quantity: 1, storeId: w.s2 }, 'NOT_FOUND', undefined],
      ['no subscription', { quantity: 1, storeId: w.s3 }, 'SUBSCRIPTION_INACTIVE', undefined, w.tokens.merchant3],
      ["a store user for the merchant's other store", { quantity: 1, storeId: w.s1b }, 'NOT_FOUND', undefined, w.tokens.store1],
    ];
    for (const [name, input, code, field, token] of cases) {
      const response = await record(w, { idempotencyKey: key(), ...input }, token);
      expect([name, response.errors?.[0]?.extensions?.code, response.errors?.[0]?.extensions?.field]).toEqual([name, code, field]);
      expect([name, response.data ?? null]).toEqual([name, null]);
    }
    expect(errorCodes(await record(w, { quantity: 1, idempotencyKey: key() }, ''))).toEqual(['UNAUTHENTICATED']);
    const tooMany = await batch(Array.from({ length: 1001 }, (_, i) => ({ storeId: w.s1, featureCode: FEATURE, quantity: 1, idempotencyKey: `k${i}` })), w.tokens.merchant1);
    expect(tooMany.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'events' });
    const cancelled = await world();
    await subscribe(urls().billing, cancelled.m1, cancelled.platformId, { status: 'CANCELLED' });
    expect(errorCodes(await record(cancelled, { quantity: 1, idempotencyKey: key() }))).toEqual(['SUBSCRIPTION_INACTIVE']);
    expect(await stored(w.m1)).toEqual({ events: 0, sum: 0, totals: [], daily: 0 });
    expect((await sql(`SELECT count(*)::int AS n FROM billing.usage_events WHERE merchant_id = ANY($1)`, [[w.m2, w.m3, cancelled.m1]]))[0].n).toBe(0);
  });
});

const originalQuery = PostgresQueryRunner.prototype.query;

describe('recordUsageBatch', () => {
  it('answers each event: duplicates inside the batch and across batches, one refused event refuses nothing else, in the order given', async () => {
    const w = await world(1000);
    const ev = (k: string, quantity: number, extra: Record<string, unknown> = {}) => ({ storeId: w.s1, featureCode: FEATURE, quantity, idempotencyKey: k, ...extra });
    const first = await batch([ev('a', 600), ev('b', 500), ev('a', 600), ev('c', 300), ev('a', 601), ev('d', 0), ev('e', 100, { storeId: w.s1b })], w.tokens.merchant1);
    expect(first.errors).toBeUndefined();
    expect(first.data?.recordUsageBatch).toEqual({
      accepted: 3,
      duplicates: 1,
      refused: 3,
      results: [
        { idempotencyKey: 'a', accepted: true, duplicate: false, errorCode: null, errorField: null, current: 600, limit: 1000, remaining: 400 },
        // 600 + 500 would pass 1000: refused, and it counts for nothing, so c (300) still fits
        { idempotencyKey: 'b', accepted: false, duplicate: false, errorCode: 'FEATURE_LIMIT_REACHED', errorField: null, current: 600, limit: 1000, remaining: 400 },
        { idempotencyKey: 'a', accepted: true, duplicate: true, errorCode: null, errorField: null, current: 600, limit: 1000, remaining: 400 },
        { idempotencyKey: 'c', accepted: true, duplicate: false, errorCode: null, errorField: null, current: 900, limit: 1000, remaining: 100 },
        { idempotencyKey: 'a', accepted: false, duplicate: false, errorCode: 'BAD_USER_INPUT', errorField: 'idempotencyKey', current: 900, limit: 1000, remaining: 100 },
        { idempotencyKey: 'd', accepted: false, duplicate: false, errorCode: 'BAD_USER_INPUT', errorField: 'quantity', current: null, limit: null, remaining: null },
        { idempotencyKey: 'e', accepted: true, duplicate: false, errorCode: null, errorField: null, current: 1000, limit: 1000, remaining: 0 },
      ],
    });
    const second = await batch([ev('c', 300), ev('b', 1)], w.tokens.admin);
    expect(second.data?.recordUsageBatch).toMatchObject({ accepted: 0, duplicates: 1, refused: 1 });
    expect(second.data?.recordUsageBatch.results.map((r: { errorCode: string | null }) => r.errorCode)).toEqual([null, 'FEATURE_LIMIT_REACHED']);
    expect(await stored(w.m1)).toEqual({ events: 3, sum: 1000, totals: [{ used: 1000, events: 3 }], daily: 1000 });
  });

  it('spans merchants, and makes as many SQL statements for 500 events as for 5', async () => {
    const w = await world();
    const statementsOf = async (events: Array<Record<string, unknown>>) => {
      let n = 0;
      PostgresQueryRunner.prototype.query = function (this: PostgresQueryRunner, ...args: Parameters<typeof originalQuery>) {
        n++;
        return originalQuery.apply(this, args);
      } as typeof originalQuery;
      try {
        const response = await batch(events, w.tokens.admin);
        expect(response.data?.recordUsageBatch.accepted).toBe(events.length);
      } finally {
        PostgresQueryRunner.prototype.query = originalQuery;
      }
      return n;
    };
    const events = (n: number, prefix: string) =>
      Array.from({ length: n }, (_, i) => ({ storeId: i % 2 ? w.s1 : w.s2, featureCode: FEATURE, quantity: 1 + (i % 7), idempotencyKey: `${prefix}-${i}`, occurredAt: new Date(now.getTime() - (i % 3) * DAY).toISOString() }));
    await statementsOf(events(5, 'warm')); // the first call of a process reads a few things once
    const small = await statementsOf(events(5, 'small'));
    const large = await statementsOf(events(500, 'large'));
    expect(large).toBe(small);
    expect(large).toBeLessThanOrEqual(20);
    const sumOf = (list: Array<{ quantity: number; storeId: string }>, store: string) => list.filter((e) => e.storeId === store).reduce((s, e) => s + e.quantity, 0);
    const all = [...events(5, 'warm'), ...events(5, 'small'), ...events(500, 'large')];
    expect((await stored(w.m1)).sum).toBe(sumOf(all, w.s1));
    expect((await stored(w.m2)).sum).toBe(sumOf(all, w.s2));
    expect((await stored(w.m2)).daily).toBe(sumOf(all, w.s2));
  });
});

describe('recordUsageBatch across tenants', () => {
  it('answers an unknown store, a merchant without a live subscription and another tenant per event, accepting the rest', async () => {
    const w = await world();
    const ev = (storeId: string, k: string) => ({ storeId, featureCode: FEATURE, quantity: 5, idempotencyKey: k });
    const response = await batch([ev(w.s1, 'x-1'), ev(randomUUID(), 'x-2'), ev(w.s3, 'x-3'), ev(w.s2, 'x-4'), ev(w.s1b, 'x-5')], w.tokens.merchant1);
    expect(response.data?.recordUsageBatch.results.map((r: { errorCode: string | null }) => r.errorCode)).toEqual([null, 'NOT_FOUND', 'NOT_FOUND', 'NOT_FOUND', null]);
    const asAdmin = await batch([ev(w.s3, 'x-6'), ev(w.s2, 'x-7'), ev(randomUUID(), 'x-8')], w.tokens.admin);
    expect(asAdmin.data?.recordUsageBatch.results.map((r: { errorCode: string | null }) => r.errorCode)).toEqual(['SUBSCRIPTION_INACTIVE', null, 'NOT_FOUND']);
    expect((await stored(w.m1)).sum).toBe(10);
    expect((await stored(w.m2)).sum).toBe(5);
    expect((await stored(w.m3)).events).toBe(0);
  });

  it('batches naming the same merchants in opposite orders, at once, neither deadlock nor lose an event', async () => {
    const w = await world();
    const ev = (storeId: string, k: string) => ({ storeId, featureCode: FEATURE, quantity: 3, idempotencyKey: k });
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => batch(i % 2 ? [ev(w.s1, `o-${i}-a`), ev(w.s2, `o-${i}-b`)] : [ev(w.s2, `o-${i}-a`), ev(w.s1, `o-${i}-b`)], w.tokens.admin)),
    );
    for (const r of results) expect([r.errors, r.data?.recordUsageBatch.accepted]).toEqual([undefined, 2]);
    expect((await stored(w.m1)).totals).toEqual([{ used: 24, events: 8 }]);
    expect((await stored(w.m2)).totals).toEqual([{ used: 24, events: 8 }]);
  });

  it('an unlimited allocation answers limit and remaining null', async () => {
    const w = await world(null);
    expect((await record(w, { quantity: 2_000_000, idempotencyKey: key() })).data?.recordUsage).toMatchObject({ accepted: true, current: 2_000_000, limit: null, remaining: null });
    expect(await meteredFeature(w)).toEqual({ code: FEATURE, current: 2_000_000, limit: null, remaining: null, percentUsed: null });
  });
});

describe('periods', () => {
  it('a new period starts from zero; late events within the grace count in the closed period’s summary; later ones are refused', async () => {
    const w = await world();
    const end = new Date(w.period.end);
    now = new Date(end.getTime() - 2 * DAY);
    await record(w, { quantity: 4000, idempotencyKey: key() });
    await record(w, { quantity: 1000, idempotencyKey: key(), occurredAt: new Date(end.getTime() - 5 * DAY).toISOString() });

    now = new Date(end.getTime() + 2 * HOUR);
    expect(await meteredFeature(w)).toMatchObject({ current: 0, remaining: 100000 });
    const fresh = await record(w, { quantity: 10, idempotencyKey: key() });
    expect(fresh.data?.recordUsage).toMatchObject({ current: 10 });
    // late: occurred before the period's end, arrives 2 h after it; answered with the current period's numbers
    const late = await record(w, { quantity: 500, idempotencyKey: key(), occurredAt: new Date(end.getTime() - HOUR).toISOString() });
    expect(late.data?.recordUsage).toMatchObject({ accepted: true, current: 10 });
    expect(await meteredFeature(w)).toMatchObject({ current: 10 });

    const history = await call(HISTORY, { r: [storeRef(w)] }, w.tokens.merchant1);
    expect(history.data?._entities[0].usageHistory).toEqual([
      {
        featureCode: FEATURE,
        periodStart: w.period.start,
        periodEnd: w.period.end,
        used: 5500,
        allocated: 100000,
        events: 3,
        peakDay: new Date(end.getTime() - 2 * DAY).toISOString().slice(0, 10),
        peakDayQuantity: 4000,
        tierCode: 'essential',
      },
    ]);

    now = new Date(end.getTime() + 25 * HOUR);
    const tooLate = await record(w, { quantity: 1, idempotencyKey: key(), occurredAt: new Date(end.getTime() - HOUR).toISOString() });
    expect(tooLate.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'occurredAt' });
    expect((await stored(w.m1)).totals).toEqual([{ used: 5500, events: 3 }, { used: 10, events: 1 }]);
  });

  it('a downgrade below current usage leaves remaining 0 and refuses further events until the next period', async () => {
    const w = await world(1000);
    await record(w, { quantity: 800, idempotencyKey: key() });
    await overrideLimit(urls().billing, w.m1, w.platformId, FEATURE, 500);
    expect(await meteredFeature(w)).toEqual({ code: FEATURE, current: 800, limit: 500, remaining: 0, percentUsed: 100 });
    const refused = await record(w, { quantity: 1, idempotencyKey: key() });
    expect(refused.errors?.[0]?.extensions).toEqual({ code: 'FEATURE_LIMIT_REACHED', featureCode: FEATURE, current: 800, limit: 500 });
    const insights = await call(ALERTS, { r: [storeRef(w)] }, w.tokens.merchant1);
    expect(insights.data?._entities[0].usageInsights).toMatchObject({ used: 800, allocated: 500 });

    now = new Date(new Date(w.period.end).getTime() + HOUR);
    expect((await record(w, { quantity: 400, idempotencyKey: key() })).data?.recordUsage).toMatchObject({ accepted: true, current: 400, limit: 500, remaining: 100 });
  });
});

describe('threshold crossings', () => {
  it('records 50, 75, 90 and 100 % once per period, also when events race', async () => {
    const w = await world(1000);
    await record(w, { quantity: 400, idempotencyKey: key() });
    // 20 racing events of 10 take usage from 40 % to 60 %: one crossing of 50 %
    await Promise.all(Array.from({ length: 20 }, (_, i) => record(w, { quantity: 10, idempotencyKey: `r-${i}` })));
    await record(w, { quantity: 360, idempotencyKey: key() }); // 96 %: crosses 75 and 90 at once
    await record(w, { quantity: 40, idempotencyKey: key() }); // 100 %
    const insights = await call(ALERTS, { r: [storeRef(w)] }, w.tokens.merchant1);
    const crossings = insights.data?._entities[0].usageInsights.usageAlertHistory;
    expect(crossings.map((c: { threshold: number }) => c.threshold)).toEqual([50, 75, 90, 100]);
    expect(crossings[1]).toEqual({ threshold: 75, used: 960, allocated: 1000 });
    expect(crossings[3]).toEqual({ threshold: 100, used: 1000, allocated: 1000 });
    const rows = await sql(`SELECT threshold, count(*)::int AS n FROM billing.usage_threshold_crossings WHERE merchant_id = $1 GROUP BY threshold ORDER BY threshold`, [w.m1]);
    expect(rows).toEqual([50, 75, 90, 100].map((threshold) => ({ threshold, n: 1 })));
  });
});

it('only the merchant’s own callers record and read', async () => {
  const w = await world();
  const other = await tokenFor({ role: 'merchant', merchantId: w.m2 });
  expect(errorCodes(await record(w, { quantity: 1, idempotencyKey: key() }, other))).toEqual(['NOT_FOUND']);
  expect(errorCodes(await call(HISTORY, { r: [storeRef(w)] }, other))).toEqual(['FORBIDDEN']);
  expect((await record(w, { quantity: 1, idempotencyKey: key() }, w.tokens.service)).data?.recordUsage.accepted).toBe(true);
});
