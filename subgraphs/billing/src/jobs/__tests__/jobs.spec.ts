import { createSubgraphDataSource, type JobRunner } from '@tiergraph/runtime';
import { startStripeLocal, type StripeLocal } from '@tiergraph/stripe-local';
import { createTestDatabase, silentLogger, type TestDatabase } from '@tiergraph/testkit';
import Stripe from 'stripe';
import type { DataSource } from 'typeorm';
import { entities } from '../../index';
import { createStripeClient, noStripe } from '../../payments/stripe-settings';
import { WebhookStore } from '../../payments/webhooks/webhook-store';
import { UsageStore } from '../../usage/usage-store';
import { createBillingJobs, scheduleBillingJobs, type BillingJobs } from '../billing-jobs';
import { captureCapacitySnapshot } from '../capture-capacity-snapshot';
import { checkTrialExpirations, TRIAL_EXPIRED_REASON } from '../check-trial-expirations';
import { cleanupStaleSubscriptions } from '../cleanup-stale-subscriptions';
import { capacitySnapshotClient } from '../../clients/capacity-snapshot-client';
import { JobsStore } from '../jobs-store';
import { resetPeriodCounters } from '../reset-period-counters';
import { JobSubscriptionWriter } from '../subscription-writes';
import { syncStripeStatus } from '../sync-stripe-status';
import {
  historyRows,
  insertInvoice,
  insertSubscription,
  insertUsage,
  rowCounts,
  startFakeMonitoring,
  subscriptionRow,
  summaries,
  type FakeMonitoring,
} from './fixtures';

const NOW = new Date('2026-03-15T00:05:00Z');
const clock = () => NOW;
const at = (iso: string) => new Date(iso);
const DAY_MS = 86_400_000;

let database: TestDatabase;
let db: DataSource;
let writer: JobSubscriptionWriter;
let jobsStore: JobsStore;

beforeAll(async () => {
  database = await createTestDatabase();
  db = createSubgraphDataSource({ url: database.url, schema: 'billing', entities, migrations: [], poolSize: 4 });
  await db.initialize();
  writer = new JobSubscriptionWriter(db);
  jobsStore = new JobsStore(db, new UsageStore(db));
});

afterAll(async () => {
  await db?.destroy();
  await database?.drop();
});

/** A writer whose write for one pair fails after the job's change ran inside the writer's transaction. */
function failingFor(pair: { merchantId: string }): JobSubscriptionWriter {
  const failing = new JobSubscriptionWriter(db);
  const write = failing.writeIfStillDue.bind(failing);
  failing.writeIfStillDue = (p, author, decide) =>
    write(p, author, async (current, manager) => {
      const decided = await decide(current, manager);
      if (p.merchantId === pair.merchantId) throw new Error('the database went away mid-write');
      return decided;
    });
  return failing;
}

describe('RESET_PERIOD_COUNTERS', () => {
  it('rolls an ended period into the current one and keeps the closed periods’ usage summaries; a second run changes nothing', async () => {
    const ended = await insertSubscription(db, { periodStart: at('2026-01-10T09:00:00Z'), periodEnd: at('2026-02-10T09:00:00Z') });
    await insertUsage(db, ended, { start: at('2026-01-10T09:00:00Z'), end: at('2026-02-10T09:00:00Z') }, [
      ['2026-01-12', 40],
      ['2026-01-20', 70],
    ]);
    await insertUsage(db, ended, { start: at('2026-02-10T09:00:00Z'), end: at('2026-03-10T09:00:00Z') }, [['2026-02-11', 25]]);
    const running = await insertSubscription(db, { periodStart: at('2026-03-01T00:00:00Z'), periodEnd: at('2026-04-01T00:00:00Z') });
    const cancelled = await insertSubscription(db, { status: 'CANCELLED', periodStart: at('2026-01-01T00:00:00Z'), periodEnd: at('2026-02-01T00:00:00Z') });
    const ending = await insertSubscription(db, { cancelAtPeriodEnd: true, periodStart: at('2026-02-01T00:00:00Z'), periodEnd: at('2026-03-01T00:00:00Z') });
    const untouched = await Promise.all([running, cancelled, ending].map((s) => subscriptionRow(db, s)));

    const first = await resetPeriodCounters({ writer, jobsStore, clock });

    expect(first).toEqual({ affected: 1, message: 'rolled 1 subscription into the next period; kept 2 closed-period usage summaries' });
    const rolled = await subscriptionRow(db, ended);
    expect([rolled.current_period_start.toISOString(), rolled.current_period_end.toISOString()]).toEqual(['2026-03-10T09:00:00.000Z', '2026-04-10T09:00:00.000Z']);
    expect((await summaries(db, ended)).map((s) => [s.period_start.toISOString(), s.used, s.events, s.peak_day, s.peak_day_quantity])).toEqual([
      ['2026-01-10T09:00:00.000Z', 110, 2, '2026-01-20', 70],
      ['2026-02-10T09:00:00.000Z', 25, 1, '2026-02-11', 25],
    ]);
    expect(await historyRows(db, ended.id)).toEqual([]);
    expect(await Promise.all([running, cancelled, ending].map((s) => subscriptionRow(db, s)))).toEqual(untouched);

    const before = { row: await subscriptionRow(db, ended), summaries: await summaries(db, ended) };
    const second = await resetPeriodCounters({ writer, jobsStore, clock });
    expect(second).toEqual({ affected: 0, message: 'no subscription had a period that ended' });
    expect({ row: await subscriptionRow(db, ended), summaries: await summaries(db, ended) }).toEqual(before);
  });

  it('an annual subscription rolls by whole years', async () => {
    const annual = await insertSubscription(db, { billingCycle: 'ANNUAL', periodStart: at('2025-03-01T00:00:00Z'), periodEnd: at('2026-03-01T00:00:00Z') });
    await resetPeriodCounters({ writer, jobsStore, clock });
    const row = await subscriptionRow(db, annual);
    expect([row.current_period_start.toISOString(), row.current_period_end.toISOString()]).toEqual(['2026-03-01T00:00:00.000Z', '2027-03-01T00:00:00.000Z']);
  });

  it('a subscription on the 31st rolled through February stays on the 31st (each roll starts where the last ended)', async () => {
    const monthEnd = await insertSubscription(db, { periodStart: at('2025-12-31T08:00:00Z'), periodEnd: at('2026-01-31T08:00:00Z') });
    const periods: string[] = [];
    for (const day of ['2026-02-01', '2026-03-01', '2026-04-01', '2026-05-01']) {
      await resetPeriodCounters({ writer, jobsStore, clock: () => at(`${day}T00:05:00Z`) });
      const row = await subscriptionRow(db, monthEnd);
      periods.push(`${row.current_period_start.toISOString().slice(0, 10)}→${row.current_period_end.toISOString().slice(0, 10)}`);
    }
    expect(periods).toEqual(['2026-01-31→2026-02-28', '2026-02-28→2026-03-31', '2026-03-31→2026-04-30', '2026-04-30→2026-05-31']);
  });

  it('a write that fails leaves that subscription as it was (no period, no summary) and the others whole; the next run finishes it', async () => {
    const a = await insertSubscription(db, { periodStart: at('2026-02-01T00:00:00Z'), periodEnd: at('2026-03-01T00:00:00Z') });
    const b = await insertSubscription(db, { periodStart: at('2026-02-02T00:00:00Z'), periodEnd: at('2026-03-02T00:00:00Z') });
    for (const s of [a, b]) await insertUsage(db, s, { start: at('2026-02-05T00:00:00Z'), end: at('2026-03-05T00:00:00Z') }, [['2026-02-06', 10]]);
    const [fails, passes] = a.merchantId < b.merchantId ? [b, a] : [a, b];
    const before = await subscriptionRow(db, fails);

    await expect(resetPeriodCounters({ writer: failingFor(fails), jobsStore, clock })).rejects.toThrow('the database went away mid-write');

    expect(await subscriptionRow(db, fails)).toEqual(before);
    expect(await summaries(db, fails)).toEqual([]);
    // the other one, before it in the run's order, was written whole
    expect((await subscriptionRow(db, passes)).current_period_end.getTime()).toBeGreaterThan(NOW.getTime());
    expect((await summaries(db, passes)).map((s) => s.used)).toEqual([10]);

    await resetPeriodCounters({ writer, jobsStore, clock });
    expect((await subscriptionRow(db, fails)).current_period_end.getTime()).toBeGreaterThan(NOW.getTime());
    expect((await summaries(db, fails)).map((s) => s.used)).toEqual([10]);
  });
});

describe('CHECK_TRIAL_EXPIRATIONS', () => {
  it('expires a trial past its end without a payment method, with history; keeps the others; a second run changes nothing', async () => {
    const over = await insertSubscription(db, { status: 'TRIAL', trialEndsAt: at('2026-03-14T00:00:00Z'), periodStart: at('2026-02-14T00:00:00Z'), periodEnd: at('2026-03-14T00:00:00Z') });
    const running = await insertSubscription(db, { status: 'TRIAL', trialEndsAt: at('2026-03-20T00:00:00Z'), periodStart: at('2026-02-20T00:00:00Z'), periodEnd: at('2026-03-20T00:00:00Z') });
    const paying = await insertSubscription(db, {
      status: 'TRIAL',
      trialEndsAt: at('2026-03-14T00:00:00Z'),
      stripeSubscriptionId: 'sub_with_card',
      periodStart: at('2026-02-14T00:00:00Z'),
      periodEnd: at('2026-03-14T00:00:00Z'),
    });

    const first = await checkTrialExpirations({ writer, jobsStore, clock });

    expect(first.affected).toBe(1);
    expect((await subscriptionRow(db, over)).status).toBe('EXPIRED');
    expect(await historyRows(db, over.id)).toEqual([
      {
        change: 'STATUS_CHANGE',
        from_tier_code: null,
        to_tier_code: null,
        from_status: 'TRIAL',
        to_status: 'EXPIRED',
        reason: TRIAL_EXPIRED_REASON,
        actor: 'job:CHECK_TRIAL_EXPIRATIONS',
        changed_at: NOW,
      },
    ]);
    expect((await subscriptionRow(db, running)).status).toBe('TRIAL');
    expect((await subscriptionRow(db, paying)).status).toBe('TRIAL');

    const before = { row: await subscriptionRow(db, over), history: await historyRows(db, over.id) };
    expect((await checkTrialExpirations({ writer, jobsStore, clock })).affected).toBe(0);
    expect({ row: await subscriptionRow(db, over), history: await historyRows(db, over.id) }).toEqual(before);
  });
});

describe('CLEANUP_STALE_SUBSCRIPTIONS', () => {
  it('removes the usage detail of subscriptions ended long ago, keeping subscription, history, summaries and invoices; a second run changes nothing', async () => {
    const period = { start: at('2025-08-01T00:00:00Z'), end: at('2025-09-01T00:00:00Z') };
    const stale = await insertSubscription(db, { status: 'CANCELLED', cancelledAt: at('2025-09-01T00:00:00Z'), periodStart: period.start, periodEnd: period.end });
    await insertUsage(db, stale, period, [
      ['2025-08-03', 5],
      ['2025-08-04', 9],
    ]);
    await insertInvoice(db, stale, `in_stale_${stale.id.slice(0, 8)}`);
    await db.query(
      `INSERT INTO billing.subscription_history (subscription_id, change, from_status, to_status, actor, changed_at) VALUES ($1, 'STATUS_CHANGE', 'ACTIVE', 'CANCELLED', 'stripe', $2)`,
      [stale.id, at('2025-09-01T00:00:00Z')],
    );
    const recent = await insertSubscription(db, { status: 'CANCELLED', cancelledAt: new Date(NOW.getTime() - 10 * DAY_MS), periodStart: at('2026-02-01T00:00:00Z'), periodEnd: at('2026-03-01T00:00:00Z') });
    await insertUsage(db, recent, { start: at('2026-02-01T00:00:00Z'), end: at('2026-03-01T00:00:00Z') }, [['2026-02-03', 7]]);
    const expiredLongAgo = await insertSubscription(db, { status: 'EXPIRED', updatedAt: at('2025-06-01T00:00:00Z'), periodStart: at('2025-05-01T00:00:00Z'), periodEnd: at('2025-06-01T00:00:00Z') });
    await insertUsage(db, expiredLongAgo, { start: at('2025-05-01T00:00:00Z'), end: at('2025-06-01T00:00:00Z') }, [['2025-05-02', 3]]);
    const recentBefore = await rowCounts(db, recent);

    const first = await cleanupStaleSubscriptions({ jobsStore, clock, cleanupAfterDays: 90 });

    expect(first.affected).toBe(2);
    expect(await rowCounts(db, stale)).toEqual({ events: 0, dailyTotals: 0, crossings: 0, periodTotals: 0, summaries: 1, history: 1, invoices: 1, subscriptions: 1 });
    expect((await summaries(db, stale)).map((s) => [s.used, s.events, s.peak_day])).toEqual([[14, 2, '2025-08-04']]);
    expect(await rowCounts(db, expiredLongAgo)).toMatchObject({ events: 0, periodTotals: 0, summaries: 1, subscriptions: 1 });
    expect(await rowCounts(db, recent)).toEqual(recentBefore);

    const after = await Promise.all([stale, expiredLongAgo, recent].map((s) => rowCounts(db, s)));
    expect((await cleanupStaleSubscriptions({ jobsStore, clock, cleanupAfterDays: 90 })).affected).toBe(0);
    expect(await Promise.all([stale, expiredLongAgo, recent].map((s) => rowCounts(db, s)))).toEqual(after);
  });
});

describe('SYNC_STRIPE_STATUS against the local Stripe stand-in', () => {
  let local: StripeLocal;
  let stripe: Stripe;
  let prices: { essential: Stripe.Price; professional: Stripe.Price };

  beforeAll(async () => {
    local = await startStripeLocal();
    stripe = new Stripe('sk_test_jobs', { host: '127.0.0.1', port: local.port, protocol: 'http' });
    const price = (name: string, cents: number) => stripe.prices.create({ currency: 'eur', unit_amount: cents, recurring: { interval: 'month' }, product_data: { name } });
    prices = { essential: await price('Essential', 4900), professional: await price('Professional', 9900) };
    await db.query(`UPDATE billing.subscription_tiers SET stripe_price_monthly_id = $1 WHERE code = 'essential'`, [prices.essential.id]);
    await db.query(`UPDATE billing.subscription_tiers SET stripe_price_monthly_id = $1 WHERE code = 'professional'`, [prices.professional.id]);
  });

  afterAll(async () => {
    await local?.stop();
  });

  /** A Stripe subscription and the billing row as the webhooks stored it when it was created. */
  async function linked(price: Stripe.Price, stored: Partial<Parameters<typeof insertSubscription>[1]> = {}) {
    const customer = await stripe.customers.create({ email: 'jobs@example.com' });
    const subscription = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
    const item = subscription.items.data[0];
    const row = await insertSubscription(db, {
      status: 'ACTIVE',
      periodStart: new Date(item.current_period_start * 1000),
      periodEnd: new Date(item.current_period_end * 1000),
      stripeCustomerId: customer.id,
      stripeSubscriptionId: subscription.id,
      stripeStateAt: new Date(NOW.getTime() - DAY_MS),
      ...stored,
    });
    return { subscription, row };
  }

  it('repairs drift through the SDK, recording what changed; leaves rows in sync or changed since the read; a second run changes nothing', async () => {
    await db.query(`UPDATE billing.merchant_subscriptions SET stripe_subscription_id = NULL`); // earlier tests' rows are not Stripe's
    const pending = await linked(prices.essential);
    await stripe.subscriptions.update(pending.subscription.id, { cancel_at_period_end: true });
    const ended = await linked(prices.essential);
    await stripe.subscriptions.cancel(ended.subscription.id);
    const upgraded = await linked(prices.professional, { periodStart: at('2026-01-01T00:00:00Z'), periodEnd: at('2026-02-01T00:00:00Z') });
    const inSync = await linked(prices.essential);
    const newer = await linked(prices.essential, { stripeStateAt: new Date(NOW.getTime() + 3_600_000) });
    await stripe.subscriptions.cancel(newer.subscription.id);
    const missing = await insertSubscription(db, { stripeSubscriptionId: 'sub_gone', periodStart: at('2026-03-01T00:00:00Z'), periodEnd: at('2026-04-01T00:00:00Z') });
    const unchanged = await Promise.all([inSync.row, newer.row, missing].map((s) => subscriptionRow(db, s)));

    const sdk = createStripeClient({ ...noStripe, secretKey: 'sk_test_jobs', apiBase: local.url });
    const tierReads = jest.spyOn(WebhookStore.prototype, 'tiers');
    const first = await syncStripeStatus({ writer, jobsStore, stripe: sdk, clock });
    const tierReadsOfTheRun = tierReads.mock.calls.length;
    tierReads.mockRestore();

    expect(first.affected).toBe(3);
    // the tiers are read once for the run, not once per linked subscription
    expect(tierReadsOfTheRun).toBe(1);
    expect(first.message).toContain('checked 6 linked subscriptions');
    expect(first.message).toContain('sub_gone: unknown to Stripe');

    expect(await subscriptionRow(db, pending.row)).toMatchObject({ status: 'ACTIVE', cancel_at_period_end: true, stripe_state_at: NOW });
    expect((await historyRows(db, pending.row.id)).map((h) => [h.change, h.reason, h.actor])).toEqual([
      ['STATUS_CHANGE', 'cancels at the end of the period (Stripe sync: cancel at period end false → true)', 'job:SYNC_STRIPE_STATUS'],
    ]);

    const cancelledRow = await subscriptionRow(db, ended.row);
    expect(cancelledRow.status).toBe('CANCELLED');
    expect(cancelledRow.cancelled_at).not.toBeNull();
    expect((await historyRows(db, ended.row.id)).map((h) => [h.change, h.from_status, h.to_status, h.actor])).toEqual([
      ['STATUS_CHANGE', 'ACTIVE', 'CANCELLED', 'job:SYNC_STRIPE_STATUS'],
    ]);

    const upgradedRow = await subscriptionRow(db, upgraded.row);
    const item = upgraded.subscription.items.data[0];
    expect(upgradedRow.current_period_start).toEqual(new Date(item.current_period_start * 1000));
    const [upgrade] = await historyRows(db, upgraded.row.id);
    expect([upgrade.change, upgrade.from_tier_code, upgrade.to_tier_code]).toEqual(['UPGRADE', 'essential', 'professional']);
    expect(upgrade.reason).toMatch(/^Stripe sync: tier essential → professional; period 2026-01-01T00:00:00.000Z–2026-02-01T00:00:00.000Z → /);

    expect(await Promise.all([inSync.row, newer.row, missing].map((s) => subscriptionRow(db, s)))).toEqual(unchanged);
    expect(await historyRows(db, inSync.row.id)).toEqual([]);

    const after = await Promise.all([pending.row, ended.row, upgraded.row].map(async (s) => ({ row: await subscriptionRow(db, s), history: await historyRows(db, s.id) })));
    const second = await syncStripeStatus({ writer, jobsStore, stripe: sdk, clock });
    expect(second.affected).toBe(0);
    expect(await Promise.all([pending.row, ended.row, upgraded.row].map(async (s) => ({ row: await subscriptionRow(db, s), history: await historyRows(db, s.id) })))).toEqual(after);
  });

  it('Stripe not answering fails the run with PAYMENT_PROVIDER_UNAVAILABLE (pg-boss retries it) and changes nothing', async () => {
    const { row } = await linked(prices.essential, { status: 'PAST_DUE' });
    const before = await subscriptionRow(db, row);
    const unreachable = createStripeClient({ ...noStripe, secretKey: 'sk_test_jobs', apiBase: 'http://127.0.0.1:9' });
    await expect(syncStripeStatus({ writer, jobsStore, stripe: unreachable, clock })).rejects.toMatchObject({ extensions: { code: 'PAYMENT_PROVIDER_UNAVAILABLE' } });
    expect(await subscriptionRow(db, row)).toEqual(before);
  });

  it('without Stripe configured it says so and changes nothing', async () => {
    expect(await syncStripeStatus({ writer, jobsStore, stripe: null, clock })).toEqual({ affected: 0, message: expect.stringContaining('not configured') });
  });
});

describe('CAPTURE_CAPACITY_SNAPSHOT against a stand-in answering the contract operation', () => {
  let monitoring: FakeMonitoring;
  beforeAll(async () => {
    monitoring = await startFakeMonitoring(() => NOW.toISOString().slice(0, 10));
  });
  afterAll(() => monitoring?.stop());

  // one snapshot per day is monitoring's rule, tested against the real one (e2e/capacity.e2e.spec.ts); the job asks on every run
  it('asks with a service token for the contract’s CaptureCapacitySnapshot on every run and reports the snapshot it got', async () => {
    const serviceToken = async () => `x.${Buffer.from(JSON.stringify({ role: 'service', sub: 'billing' })).toString('base64url')}.y`;
    const capacity = capacitySnapshotClient(monitoring.url, serviceToken);
    const first = await captureCapacitySnapshot({ capacity });
    await captureCapacitySnapshot({ capacity });
    expect(first).toEqual({ affected: 1, message: expect.stringMatching(/^capacity snapshot of 2026-03-15 \([0-9a-f-]{36}\): 12 stores, 11 subscriptions, 340 products$/) });
    expect(monitoring.roles).toEqual(['service', 'service']);
    expect(monitoring.queries[0]).toContain('mutation CaptureCapacitySnapshot');
  });

  it('a refusal is the job’s failure (so pg-boss retries it)', async () => {
    const capacity = capacitySnapshotClient(monitoring.url, async () => `x.${Buffer.from(JSON.stringify({ role: 'merchant' })).toString('base64url')}.y`);
    await expect(captureCapacitySnapshot({ capacity })).rejects.toMatchObject({ extensions: { code: 'FORBIDDEN' } });
  });

  it('monitoring not answering is MONITORING_UNAVAILABLE', async () => {
    const capacity = capacitySnapshotClient('http://127.0.0.1:9/graphql', async () => 'x.e30.y');
    await expect(captureCapacitySnapshot({ capacity })).rejects.toMatchObject({ extensions: { code: 'MONITORING_UNAVAILABLE' } });
  });
});

describe('billing’s jobs on pg-boss', () => {
  // every test's instances stop before the next starts: they would work each other's queues
  const runners: JobRunner[] = [];
  afterEach(async () => {
    for (const runner of runners.splice(0)) await runner.stop(5_000);
  });

  async function until<T>(check: () => Promise<T | undefined>): Promise<T> {
    for (let i = 0; i < 300; i++) {
      const value = await check();
      if (value !== undefined) return value;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error('gave up waiting');
  }
  const done = (runner: JobRunner, name: string, occurrence: Date) =>
    until(async () => {
      const state = await runner.runState(name, occurrence);
      return state && (state.state === 'completed' || state.state === 'failed') ? state : undefined;
    });
  const schedule = { schedule: false, retryLimit: 2, retryDelaySeconds: 0, pollingIntervalSeconds: 0.5 };

  it('two instances racing for one occurrence run the job once', async () => {
    const trial = await insertSubscription(db, { status: 'TRIAL', trialEndsAt: at('2026-03-13T00:00:00Z'), periodStart: at('2026-02-13T00:00:00Z'), periodEnd: at('2026-03-13T00:00:00Z') });
    const calls: string[] = [];
    const instance = (name: string): BillingJobs => {
      const jobs = createBillingJobs({ db, usageStore: new UsageStore(db), stripe: null, capacity: { capture: () => Promise.reject(new Error('unused')) }, clock, cleanupAfterDays: 90 });
      return {
        ...jobs,
        CHECK_TRIAL_EXPIRATIONS: () => {
          calls.push(name);
          return jobs.CHECK_TRIAL_EXPIRATIONS();
        },
      };
    };
    const [one, two] = await Promise.all([
      scheduleBillingJobs(instance('one'), database.url, silentLogger, schedule),
      scheduleBillingJobs(instance('two'), database.url, silentLogger, schedule),
    ]);
    runners.push(one, two);
    const occurrence = at('2026-03-15T00:10:00Z');
    await Promise.all([one.enqueue('CHECK_TRIAL_EXPIRATIONS', occurrence), two.enqueue('CHECK_TRIAL_EXPIRATIONS', occurrence)]);
    expect(await done(one, 'CHECK_TRIAL_EXPIRATIONS', occurrence)).toMatchObject({ state: 'completed' });
    expect(calls).toHaveLength(1);
    expect((await subscriptionRow(db, trial)).status).toBe('EXPIRED');
    expect(await historyRows(db, trial.id)).toHaveLength(1);
  });

  it('a failing attempt is retried; what the failed attempt left is whole, and the retry finishes the job', async () => {
    const due = await insertSubscription(db, { periodStart: at('2026-02-03T00:00:00Z'), periodEnd: at('2026-03-03T00:00:00Z') });
    await insertUsage(db, due, { start: at('2026-02-03T00:00:00Z'), end: at('2026-03-03T00:00:00Z') }, [['2026-02-04', 12]]);
    const before = await subscriptionRow(db, due);
    let attempts = 0;
    let leftByFailedAttempt: { row: Record<string, any>; summaries: unknown[] } | undefined;
    const jobs = createBillingJobs({ db, usageStore: new UsageStore(db), stripe: null, capacity: { capture: () => Promise.reject(new Error('unused')) }, clock, cleanupAfterDays: 90 });
    const runner = await scheduleBillingJobs(
      {
        ...jobs,
        RESET_PERIOD_COUNTERS: async () => {
          attempts++;
          if (attempts === 1) return resetPeriodCounters({ writer: failingFor(due), jobsStore, clock });
          leftByFailedAttempt = { row: await subscriptionRow(db, due), summaries: await summaries(db, due) };
          return jobs.RESET_PERIOD_COUNTERS();
        },
      },
      database.url,
      silentLogger,
      schedule,
    );
    runners.push(runner);
    const occurrence = at('2026-03-15T00:05:00Z');
    await runner.enqueue('RESET_PERIOD_COUNTERS', occurrence);
    expect(await done(runner, 'RESET_PERIOD_COUNTERS', occurrence)).toMatchObject({ state: 'completed', retryCount: 1 });
    expect(attempts).toBe(2);
    expect(leftByFailedAttempt).toEqual({ row: before, summaries: [] });
    expect((await subscriptionRow(db, due)).current_period_start.toISOString()).toBe('2026-03-03T00:00:00.000Z');
    expect((await summaries(db, due)).map((s) => s.used)).toEqual([12]);
  });
});
