import { createBillingSubgraph } from '@tiergraph/billing';
import { startStripeLocal, type StripeLocal } from '@tiergraph/stripe-local';
import { createTenants, errorCodes, tokenFor } from '@tiergraph/testkit';
import Stripe from 'stripe';
import type { DataSource } from 'typeorm';
import { JOB_NAMES } from '../subgraphs/billing/src/jobs/job';
import {
  historyRows,
  insertInvoice,
  insertSubscription,
  insertUsage,
  rowCounts,
  subscriptionRow,
} from '../subgraphs/billing/src/jobs/__tests__/fixtures';
import { contractCaller, startTestGraph, type TestGraph } from './graph';

/**
 * runJob through the gateway, as the contract's RunJob: every job, each with something to do, then again with
 * nothing left; only admins. CAPTURE_CAPACITY_SNAPSHOT asks the real monitoring subgraph (with a service token),
 * which gathers the platform's figures through the same gateway.
 */
let graph: TestGraph;
let stripeLocal: StripeLocal;
let admin: string;
let db: DataSource;

const { send, ok } = contractCaller(() => graph, () => admin);
const DAY_MS = 86_400_000;
const daysAgo = (n: number) => new Date(Date.now() - n * DAY_MS);
const snapshotsToday = async () =>
  (await graph.subgraphs.monitoring.dataSource.query(`SELECT id FROM monitoring.capacity_snapshots WHERE snapshot_date = $1`, [new Date().toISOString().slice(0, 10)])) as Array<{ id: string }>;

beforeAll(async () => {
  stripeLocal = await startStripeLocal();
  graph = await startTestGraph({
    billing: createBillingSubgraph({
      stripe: { secretKey: 'sk_test_jobs', apiBase: stripeLocal.url, trialDays: 14, returnUrl: 'http://localhost:3000/billing' },
    }) as never,
  });
  admin = await tokenFor({ role: 'admin' });
  db = graph.subgraphs.billing.dataSource;
});

afterAll(async () => {
  await graph?.stop();
  await stripeLocal?.stop();
});

async function seed() {
  const rolled = await insertSubscription(db, { periodStart: daysAgo(40), periodEnd: daysAgo(10) });
  await insertUsage(db, rolled, { start: daysAgo(40), end: daysAgo(10) }, [[daysAgo(20).toISOString().slice(0, 10), 30]]);
  const trial = await insertSubscription(db, { status: 'TRIAL', trialEndsAt: daysAgo(1), periodStart: daysAgo(15), periodEnd: new Date(Date.now() + 15 * DAY_MS) });
  const stale = await insertSubscription(db, { status: 'CANCELLED', cancelledAt: daysAgo(200), periodStart: daysAgo(230), periodEnd: daysAgo(200) });
  await insertUsage(db, stale, { start: daysAgo(230), end: daysAgo(200) }, [[daysAgo(210).toISOString().slice(0, 10), 4]]);
  await insertInvoice(db, stale, 'in_e2e_stale');

  const stripe = new Stripe('sk_test_jobs', { host: '127.0.0.1', port: stripeLocal.port, protocol: 'http' });
  const price = await stripe.prices.create({ currency: 'eur', unit_amount: 4900, recurring: { interval: 'month' }, product_data: { name: 'Essential' } });
  await ok('UpdateSubscriptionTier', { code: 'essential', input: { stripePriceMonthlyId: price.id } });
  const customer = await stripe.customers.create({ email: 'drift@example.com' });
  const subscription = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
  const item = subscription.items.data[0];
  const drifted = await insertSubscription(db, {
    status: 'PAST_DUE', // a lost invoice.paid: Stripe says active
    periodStart: new Date(item.current_period_start * 1000),
    periodEnd: new Date(item.current_period_end * 1000),
    stripeCustomerId: customer.id,
    stripeSubscriptionId: subscription.id,
    stripeStateAt: daysAgo(1),
  });
  return { rolled, trial, stale, drifted };
}

it('runs every job through the gateway, each reporting what it did; a second run of each has nothing left to do', async () => {
  const { rolled, trial, stale, drifted } = await seed();

  const first: Record<string, any> = {};
  for (const name of JOB_NAMES) first[name] = (await ok('RunJob', { name })).runJob;

  for (const name of JOB_NAMES) {
    const run = first[name];
    expect([name, run.name, run.affected]).toEqual([name, name, 1]);
    expect(new Date(run.finishedAt).getTime()).toBeGreaterThanOrEqual(new Date(run.startedAt).getTime());
    expect(run.message).toEqual(expect.any(String));
  }
  expect((await subscriptionRow(db, rolled)).current_period_end.getTime()).toBeGreaterThan(Date.now());
  expect(await rowCounts(db, rolled)).toMatchObject({ summaries: 1 });
  expect((await subscriptionRow(db, trial)).status).toBe('EXPIRED');
  expect(await rowCounts(db, stale)).toMatchObject({ events: 0, periodTotals: 0, summaries: 1, invoices: 1, subscriptions: 1 });
  expect((await subscriptionRow(db, drifted)).status).toBe('ACTIVE');
  expect((await historyRows(db, drifted.id)).map((h) => [h.from_status, h.to_status, h.actor])).toEqual([['PAST_DUE', 'ACTIVE', 'job:SYNC_STRIPE_STATUS']]);
  expect(first.CAPTURE_CAPACITY_SNAPSHOT.message).toContain(new Date().toISOString().slice(0, 10));
  const [snapshot, ...more] = await snapshotsToday();
  expect(more).toEqual([]);
  expect(first.CAPTURE_CAPACITY_SNAPSHOT.message).toContain(snapshot.id);

  for (const name of JOB_NAMES) {
    const again = (await ok('RunJob', { name })).runJob;
    // the day's snapshot comes back the same; every other job finds nothing to do
    if (name === 'CAPTURE_CAPACITY_SNAPSHOT') expect(again.message).toBe(first[name].message);
    else expect([name, again.affected]).toEqual([name, 0]);
  }
});

it('only admins run jobs: a merchant, a store user and a service get FORBIDDEN, and nothing runs', async () => {
  const snapshots = (await snapshotsToday()).length;
  // a real merchant and store user: a store token for a store tenancy does not know is refused UNAUTHENTICATED before this
  const tenants = await createTenants(graph.subgraphs.tenancy.url);
  const tokens = [tenants.tokens.merchant1, tenants.tokens.store1, await tokenFor({ role: 'service' })];
  const trial = await insertSubscription(db, { status: 'TRIAL', trialEndsAt: daysAgo(1), periodStart: daysAgo(15), periodEnd: new Date(Date.now() + 15 * DAY_MS) });
  for (const token of tokens) {
    for (const name of JOB_NAMES) {
      const response = await send('RunJob', { name }, token);
      expect([name, errorCodes(response)]).toEqual([name, ['FORBIDDEN']]);
    }
  }
  expect((await subscriptionRow(db, trial)).status).toBe('TRIAL');
  expect(await snapshotsToday()).toHaveLength(snapshots);
});

it('an unknown job name is refused by the schema', async () => {
  const response = await send('RunJob', { name: 'DROP_EVERYTHING' });
  expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
});
