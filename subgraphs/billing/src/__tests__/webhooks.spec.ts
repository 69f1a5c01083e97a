import { randomUUID } from 'node:crypto';
import type { RunningSubgraph } from '@tiergraph/runtime';
import { tenancySubgraph } from '@tiergraph/tenancy';
import { createTestDatabase, createWorld, expectData, postGraphQL, setupOps, startTestSubgraphs, subscribe, type TestDatabase, type World } from '@tiergraph/testkit';
import Stripe from 'stripe';
import { createBillingSubgraph } from '../index';
import { noStripe } from '../payments/stripe-settings';

const SECRET = 'whsec_test';
const DAY = 86_400;
/** Event times: a day ago, so every offset used here is still in the past. */
const T0 = Math.floor(Date.now() / 1000) - DAY;
const iso = (seconds: number) => new Date(seconds * 1000);

let db: TestDatabase;
let billing: RunningSubgraph;
let tenancy: RunningSubgraph;
let world: World;
let origin: string;

beforeAll(async () => {
  db = await createTestDatabase();
  ({ billing, tenancy } = await startTestSubgraphs(
    { billing: createBillingSubgraph({ stripe: { ...noStripe, webhookSecret: SECRET, trialDays: 30 } }), tenancy: tenancySubgraph },
    db.url,
  ));
  origin = billing.url.replace(/\/graphql$/, '');
  world = await createWorld({ tenancy: tenancy.url, billing: billing.url });
  await billing.dataSource.query(
    `UPDATE billing.subscription_tiers SET stripe_price_monthly_id = 'price_' || code || '_monthly', stripe_price_annual_id = 'price_' || code || '_annual'
     WHERE code IN ('essential', 'professional')`,
  );
});

afterAll(async () => {
  await Promise.all([billing?.stop(), tenancy?.stop()]);
  await db?.drop();
});

// ───────────── a merchant, Stripe objects, signed deliveries ─────────────

interface Merchant {
  merchantId: string;
  platformId: string;
  storeId: string;
}

async function newMerchant(): Promise<Merchant> {
  const n = randomUUID().slice(0, 8);
  const token = world.tokens.admin;
  const { createMerchant } = await expectData(
    postGraphQL(tenancy.url, { query: setupOps.createMerchant, variables: { input: { name: `Shop ${n}`, email: `${n}@example.com` } } }, { token }),
  );
  const { createStore } = await expectData(
    postGraphQL(
      tenancy.url,
      { query: setupOps.createStore, variables: { input: { merchantId: createMerchant.id, platformId: world.platformId, code: `st-${n}`, name: `Store ${n}` } } },
      { token },
    ),
  );
  return { merchantId: createMerchant.id, platformId: world.platformId, storeId: createStore.id };
}

const linkOf = (m: Merchant, extra: Record<string, string> = {}) => ({
  kind: 'subscription',
  merchantId: m.merchantId,
  platformId: m.platformId,
  storeId: m.storeId,
  ...extra,
});

interface SubscriptionFields {
  id: string;
  status?: string;
  price?: string;
  interval?: 'month' | 'year';
  start?: number;
  end?: number;
  trialEnd?: number | null;
  cancelAtPeriodEnd?: boolean;
  endedAt?: number | null;
  metadata?: Record<string, string>;
}

function stripeSubscription(m: Merchant, f: SubscriptionFields) {
  return {
    id: f.id,
    object: 'subscription',
    customer: `cus_${m.merchantId.slice(0, 8)}`,
    status: f.status ?? 'active',
    metadata: f.metadata ?? linkOf(m),
    items: {
      object: 'list',
      data: [
        {
          id: `si_${f.id}`,
          object: 'subscription_item',
          price: { id: f.price ?? 'price_essential_monthly', object: 'price', recurring: { interval: f.interval ?? 'month' } },
          quantity: 1,
          current_period_start: f.start ?? T0,
          current_period_end: f.end ?? T0 + 30 * DAY,
        },
      ],
    },
    cancel_at_period_end: f.cancelAtPeriodEnd ?? false,
    cancel_at: null,
    canceled_at: null,
    ended_at: f.endedAt ?? null,
    trial_end: f.trialEnd ?? null,
  };
}

function stripeInvoice(m: Merchant, f: { id: string; subscription: string | null; amount?: number; attemptCount?: number; status?: string }) {
  return {
    id: f.id,
    object: 'invoice',
    number: `INV-${f.id}`,
    status: f.status ?? 'paid',
    customer: `cus_${m.merchantId.slice(0, 8)}`,
    amount_due: f.amount ?? 4900,
    amount_paid: f.status === 'open' ? 0 : (f.amount ?? 4900),
    currency: 'eur',
    created: T0,
    attempt_count: f.attemptCount ?? 1,
    invoice_pdf: `https://files.example.com/${f.id}.pdf`,
    period_start: T0 - 30 * DAY,
    period_end: T0,
    parent: f.subscription ? { type: 'subscription_details', subscription_details: { subscription: f.subscription, metadata: linkOf(m) } } : null,
    lines: { object: 'list', data: [{ period: { start: T0, end: T0 + 30 * DAY } }] },
  };
}

function checkoutSession(m: Merchant, f: { subscription?: string; paymentStatus?: string; metadata?: Record<string, string> }) {
  return {
    id: `cs_${randomUUID().slice(0, 8)}`,
    object: 'checkout.session',
    mode: 'subscription',
    status: 'complete',
    payment_status: f.paymentStatus ?? 'paid',
    customer: `cus_${m.merchantId.slice(0, 8)}`,
    subscription: f.subscription ?? null,
    metadata: f.metadata ?? linkOf(m, { tierCode: 'essential', billingCycle: 'MONTHLY' }),
  };
}

interface StripeEventBody {
  id: string;
  type: string;
  created: number;
}

function eventOf(type: string, object: object, created: number): StripeEventBody & Record<string, unknown> {
  return {
    id: `evt_${randomUUID().replace(/-/g, '')}`,
    object: 'event',
    api_version: '2025-08-27.basil',
    created,
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
    data: { object },
  };
}

async function deliver(event: object): Promise<{ status: number; body: any }> {
  const payload = JSON.stringify(event);
  const response = await fetch(`${origin}/webhooks/stripe`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload, secret: SECRET }) },
    body: payload,
  });
  return { status: response.status, body: await response.json() };
}

const PROCESSED = { status: 200, body: { received: true, duplicate: false } };
const DUPLICATE = { status: 200, body: { received: true, duplicate: true } };

// ───────────── what is stored ─────────────

async function rowOf(m: Merchant) {
  const [row] = await billing.dataSource.query(
    `SELECT s.status, t.code AS tier, s.billing_cycle AS cycle, s.current_period_start AS "periodStart", s.current_period_end AS "periodEnd",
            s.trial_ends_at AS "trialEndsAt", s.cancel_at_period_end AS "cancelAtPeriodEnd", s.cancelled_at AS "cancelledAt",
            s.stripe_customer_id AS customer, s.stripe_subscription_id AS subscription, s.stripe_state_at AS "stateAt",
            s.payment_state_at AS "paymentStateAt", s.payment_attempts AS "paymentAttempts", s.merchant_name AS "merchantName"
     FROM billing.merchant_subscriptions s JOIN billing.subscription_tiers t ON t.id = s.tier_id
     WHERE s.merchant_id = $1 AND s.platform_id = $2`,
    [m.merchantId, m.platformId],
  );
  return row ?? null;
}

async function historyOf(m: Merchant): Promise<Array<[string, string | null, string | null, string]>> {
  const rows = await billing.dataSource.query(
    `SELECT h.change, coalesce(h.from_status, h.from_tier_code) AS "from", coalesce(h.to_status, h.to_tier_code) AS "to", h.actor
     FROM billing.subscription_history h JOIN billing.merchant_subscriptions s ON s.id = h.subscription_id
     WHERE s.merchant_id = $1 AND s.platform_id = $2 ORDER BY h.seq`,
    [m.merchantId, m.platformId],
  );
  return rows.map((r: any) => [r.change, r.from, r.to, r.actor]);
}

async function recorded(eventId: string): Promise<{ type: string; outcome: string; createdAt: Date } | null> {
  const [row] = await billing.dataSource.query(
    `SELECT type, outcome, created_at AS "createdAt" FROM billing.stripe_webhook_events WHERE event_id = $1`,
    [eventId],
  );
  return row ?? null;
}

async function countOf(sql: string, params: unknown[]): Promise<number> {
  const [{ n }] = await billing.dataSource.query(`SELECT count(*)::int AS n FROM ${sql}`, params);
  return n;
}

async function entitlementsOf(m: Merchant): Promise<{ status: string | null; active: boolean }> {
  const data = await expectData(
    postGraphQL(
      billing.url,
      { query: `query($m: ID!, $p: ID!) { entitlements(merchantId: $m, platformId: $p) { status active } }`, variables: { m: m.merchantId, p: m.platformId } },
      { token: world.tokens.service },
    ),
  );
  return data.entitlements;
}

/** A merchant whose subscription Stripe created (essential, monthly, active) at `created`. */
async function linkedMerchant(created = T0): Promise<{ m: Merchant; subscriptionId: string }> {
  const m = await newMerchant();
  const subscriptionId = `sub_${randomUUID().slice(0, 12)}`;
  expect(await deliver(eventOf('customer.subscription.created', stripeSubscription(m, { id: subscriptionId }), created))).toEqual(PROCESSED);
  return { m, subscriptionId };
}

// ───────────── the handlers ─────────────

describe('handlers', () => {
  it('customer.subscription.created creates and links the subscription of the metadata: tier and cycle from the price, trial, periods', async () => {
    const m = await newMerchant();
    const subscription = stripeSubscription(m, {
      id: 'sub_created_1',
      status: 'trialing',
      price: 'price_professional_annual',
      interval: 'year',
      start: T0,
      end: T0 + 365 * DAY,
      trialEnd: T0 + 30 * DAY,
      metadata: linkOf(m, { merchantName: 'Created Shop' }),
    });
    const event = eventOf('customer.subscription.created', subscription, T0);
    expect(await deliver(event)).toEqual(PROCESSED);

    expect(await rowOf(m)).toEqual({
      status: 'TRIAL',
      tier: 'professional',
      cycle: 'ANNUAL',
      periodStart: iso(T0),
      periodEnd: iso(T0 + 365 * DAY),
      trialEndsAt: iso(T0 + 30 * DAY),
      cancelAtPeriodEnd: false,
      cancelledAt: null,
      customer: `cus_${m.merchantId.slice(0, 8)}`,
      subscription: 'sub_created_1',
      stateAt: iso(T0),
      paymentStateAt: null,
      paymentAttempts: 0,
      merchantName: 'Created Shop',
    });
    expect(await historyOf(m)).toEqual([['CREATED', null, 'TRIAL', 'stripe']]);
    expect(await recorded(event.id)).toMatchObject({ type: 'customer.subscription.created', createdAt: iso(T0), outcome: 'created: professional ANNUAL TRIAL' });
    expect(await entitlementsOf(m)).toEqual({ status: 'TRIAL', active: true });
  });

  it('customer.subscription.updated moves tier, cycle, status and period, and records a cancellation at the period end', async () => {
    const { m, subscriptionId } = await linkedMerchant();
    const updated = stripeSubscription(m, {
      id: subscriptionId,
      price: 'price_professional_annual',
      interval: 'year',
      status: 'past_due',
      start: T0 + 10,
      end: T0 + 10 + 365 * DAY,
      cancelAtPeriodEnd: true,
    });
    expect(await deliver(eventOf('customer.subscription.updated', updated, T0 + 60))).toEqual(PROCESSED);

    expect(await rowOf(m)).toMatchObject({
      status: 'PAST_DUE',
      tier: 'professional',
      cycle: 'ANNUAL',
      periodStart: iso(T0 + 10),
      periodEnd: iso(T0 + 10 + 365 * DAY),
      cancelAtPeriodEnd: true,
      stateAt: iso(T0 + 60),
    });
    expect(await historyOf(m)).toEqual([
      ['CREATED', null, 'ACTIVE', 'stripe'],
      ['UPGRADE', 'essential', 'professional', 'stripe'],
      ['CYCLE_CHANGE', null, null, 'stripe'],
      ['STATUS_CHANGE', 'ACTIVE', 'PAST_DUE', 'stripe'],
      ['STATUS_CHANGE', null, null, 'stripe'],
    ]);
  });

  it('an unknown price falls back to the metadata tier; without one the event is recorded and ignored', async () => {
    const { m, subscriptionId } = await linkedMerchant();
    const fallback = stripeSubscription(m, { id: subscriptionId, price: 'price_mystery', metadata: linkOf(m, { tierCode: 'professional' }) });
    expect(await deliver(eventOf('customer.subscription.updated', fallback, T0 + 10))).toEqual(PROCESSED);
    expect(await rowOf(m)).toMatchObject({ tier: 'professional', cycle: 'MONTHLY' });

    const before = await rowOf(m);
    const unknown = eventOf('customer.subscription.updated', stripeSubscription(m, { id: subscriptionId, price: 'price_mystery', status: 'past_due' }), T0 + 20);
    expect(await deliver(unknown)).toEqual(PROCESSED);
    expect(await recorded(unknown.id)).toMatchObject({ outcome: 'ignored: unknown price' });
    expect(await rowOf(m)).toEqual(before);
  });

  it('checkout.session.completed activates a trial subscription and links the Stripe customer and subscription', async () => {
    const m = await newMerchant();
    await subscribe(billing.url, m.merchantId, m.platformId, { tierCode: 'essential', trialDays: 30 });
    expect(await rowOf(m)).toMatchObject({ status: 'TRIAL', customer: null, subscription: null });

    const session = checkoutSession(m, { subscription: 'sub_checkout_1', metadata: linkOf(m, { tierCode: 'professional', billingCycle: 'MONTHLY' }) });
    expect(await deliver(eventOf('checkout.session.completed', session, T0))).toEqual(PROCESSED);

    expect(await rowOf(m)).toMatchObject({
      status: 'ACTIVE',
      tier: 'professional',
      customer: `cus_${m.merchantId.slice(0, 8)}`,
      subscription: 'sub_checkout_1',
      stateAt: iso(T0),
    });
    expect((await historyOf(m)).slice(-2)).toEqual([
      ['UPGRADE', 'essential', 'professional', 'stripe'],
      ['STATUS_CHANGE', 'TRIAL', 'ACTIVE', 'stripe'],
    ]);
    expect(await entitlementsOf(m)).toEqual({ status: 'ACTIVE', active: true });
  });

  it('checkout.session.completed for a merchant without a subscription creates it from the metadata', async () => {
    const m = await newMerchant();
    const session = checkoutSession(m, { subscription: 'sub_checkout_2', metadata: linkOf(m, { tierCode: 'essential', billingCycle: 'ANNUAL' }) });
    expect(await deliver(eventOf('checkout.session.completed', session, T0))).toEqual(PROCESSED);
    expect(await rowOf(m)).toMatchObject({ status: 'ACTIVE', tier: 'essential', cycle: 'ANNUAL', subscription: 'sub_checkout_2', merchantName: m.merchantId });
    expect(await historyOf(m)).toEqual([['CREATED', null, 'ACTIVE', 'stripe']]);
  });

  it('an unpaid checkout (a delayed payment method) creates no subscription and changes none; the later subscription event does', async () => {
    const m = await newMerchant();
    const subscriptionId = `sub_${randomUUID().slice(0, 12)}`;
    const unpaid = eventOf('checkout.session.completed', checkoutSession(m, { subscription: subscriptionId, paymentStatus: 'unpaid' }), T0);
    expect(await deliver(unpaid)).toEqual(PROCESSED);
    expect(await rowOf(m)).toBeNull();
    expect((await recorded(unpaid.id))?.outcome).toMatch(/^ignored: the checkout is unpaid/);
    expect(await deliver(eventOf('customer.subscription.updated', stripeSubscription(m, { id: subscriptionId, status: 'active' }), T0 + 10))).toEqual(PROCESSED);
    expect(await rowOf(m)).toMatchObject({ status: 'ACTIVE', subscription: subscriptionId });

    const { m: linked, subscriptionId: first } = await linkedMerchant();
    expect(await deliver(eventOf('customer.subscription.deleted', stripeSubscription(linked, { id: first, status: 'canceled', endedAt: T0 + 5 }), T0 + 5))).toEqual(PROCESSED);
    const cancelled = await rowOf(linked);
    expect(await deliver(eventOf('checkout.session.completed', checkoutSession(linked, { subscription: 'sub_new_unpaid', paymentStatus: 'unpaid' }), T0 + 20))).toEqual(PROCESSED);
    expect(await rowOf(linked)).toEqual(cancelled);
  });

  it('an add-on checkout creates the store add-on and leaves the subscription alone; its Stripe subscription ending cancels it', async () => {
    const { m } = await linkedMerchant();
    const before = await rowOf(m);
    const metadata = { kind: 'addon', merchantId: m.merchantId, platformId: m.platformId, storeId: m.storeId, addOnCode: 'domain', quantity: '1', domainName: 'shop.example.com' };
    expect(await deliver(eventOf('checkout.session.completed', checkoutSession(m, { subscription: 'sub_addon_1', metadata }), T0 + 5))).toEqual(PROCESSED);

    const addOns = await billing.dataSource.query(
      `SELECT store_id AS "storeId", merchant_id AS "merchantId", add_on_code AS code, status, quantity, domain_name AS "domainName"
       FROM billing.store_add_ons WHERE store_id = $1`,
      [m.storeId],
    );
    expect(addOns).toEqual([{ storeId: m.storeId, merchantId: m.merchantId, code: 'domain', status: 'active', quantity: 1, domainName: 'shop.example.com' }]);
    expect(await rowOf(m)).toEqual(before);

    // without a Stripe client the item is not read at checkout; the payment service links it when it has one
    await billing.dataSource.query(`UPDATE billing.store_add_ons SET stripe_subscription_item_id = 'si_sub_addon_1' WHERE store_id = $1`, [m.storeId]);
    const ended = stripeSubscription(m, { id: 'sub_addon_1', status: 'canceled', metadata });
    expect(await deliver(eventOf('customer.subscription.deleted', ended, T0 + 50))).toEqual(PROCESSED);
    expect(await billing.dataSource.query(`SELECT status FROM billing.store_add_ons WHERE store_id = $1`, [m.storeId])).toEqual([{ status: 'cancelled' }]);
    expect(await rowOf(m)).toEqual(before);
  });

  it('customer.subscription.deleted cancels the subscription', async () => {
    const { m, subscriptionId } = await linkedMerchant();
    const deleted = stripeSubscription(m, { id: subscriptionId, status: 'canceled', endedAt: T0 + 90 });
    expect(await deliver(eventOf('customer.subscription.deleted', deleted, T0 + 100))).toEqual(PROCESSED);
    expect(await rowOf(m)).toMatchObject({ status: 'CANCELLED', cancelledAt: iso(T0 + 90), cancelAtPeriodEnd: false, stateAt: iso(T0 + 100) });
    expect((await historyOf(m)).at(-1)).toEqual(['STATUS_CHANGE', 'ACTIVE', 'CANCELLED', 'stripe']);
    expect(await entitlementsOf(m)).toEqual({ status: 'CANCELLED', active: false });
  });

  it('customer.subscription.trial_will_end is recorded and changes nothing', async () => {
    const { m, subscriptionId } = await linkedMerchant();
    const before = await rowOf(m);
    const event = eventOf('customer.subscription.trial_will_end', stripeSubscription(m, { id: subscriptionId, status: 'trialing', trialEnd: T0 + 3 * DAY }), T0 + 30);
    expect(await deliver(event)).toEqual(PROCESSED);
    expect(await recorded(event.id)).toMatchObject({
      type: 'customer.subscription.trial_will_end',
      outcome: `recorded: the trial of merchant ${m.merchantId} on platform ${m.platformId} ends ${iso(T0 + 3 * DAY).toISOString()}`,
    });
    expect(await rowOf(m)).toEqual(before);
  });

  it('invoice.payment_failed makes the subscription past due with the attempt count; invoice.paid records the invoice and makes it active again', async () => {
    const { m, subscriptionId } = await linkedMerchant();
    const failed = stripeInvoice(m, { id: 'in_failing_1', subscription: subscriptionId, status: 'open', attemptCount: 2 });
    expect(await deliver(eventOf('invoice.payment_failed', failed, T0 + 10))).toEqual(PROCESSED);
    expect(await rowOf(m)).toMatchObject({ status: 'PAST_DUE', paymentAttempts: 2 });
    expect(await entitlementsOf(m)).toEqual({ status: 'PAST_DUE', active: true });

    const paid = stripeInvoice(m, { id: 'in_failing_1', subscription: subscriptionId, amount: 4900, attemptCount: 3 });
    expect(await deliver(eventOf('invoice.paid', paid, T0 + 20))).toEqual(PROCESSED);
    // invoices move the payment mark, not the subscription mark: a slightly older subscription update still applies
    expect(await rowOf(m)).toMatchObject({ status: 'ACTIVE', paymentAttempts: 0, paymentStateAt: iso(T0 + 20) });
    expect(
      await billing.dataSource.query(
        `SELECT merchant_id AS "merchantId", platform_id AS "platformId", number, status, amount_due_cents AS due, amount_paid_cents AS paid, currency,
                period_start AS "periodStart", period_end AS "periodEnd", invoice_pdf_url AS pdf
         FROM billing.billing_history WHERE stripe_invoice_id = 'in_failing_1'`,
      ),
    ).toEqual([
      {
        merchantId: m.merchantId,
        platformId: m.platformId,
        number: 'INV-in_failing_1',
        status: 'paid',
        due: 4900,
        paid: 4900,
        currency: 'EUR',
        periodStart: iso(T0),
        periodEnd: iso(T0 + 30 * DAY),
        pdf: 'https://files.example.com/in_failing_1.pdf',
      },
    ]);
    expect((await historyOf(m)).slice(1)).toEqual([
      ['STATUS_CHANGE', 'ACTIVE', 'PAST_DUE', 'stripe'],
      ['STATUS_CHANGE', 'PAST_DUE', 'ACTIVE', 'stripe'],
    ]);
  });

  it('an unknown event type is answered 200, recorded and ignored; its redelivery is a duplicate', async () => {
    const event = eventOf('customer.created', { id: 'cus_new', object: 'customer' }, T0);
    expect(await deliver(event)).toEqual(PROCESSED);
    expect(await recorded(event.id)).toMatchObject({ type: 'customer.created', outcome: 'ignored: customer.created is not handled' });
    expect(await deliver(event)).toEqual(DUPLICATE);
  });

  it('the entitlement caches drop the merchant when an event changes the subscription', async () => {
    const { m, subscriptionId } = await linkedMerchant();
    const HAS_FEATURE = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Store { hasFeature(code: "analytics_dashboard") } } }`;
    const store = { __typename: 'Store', id: m.storeId, merchantId: m.merchantId, platformId: m.platformId };
    const hasFeature = async () =>
      (await expectData(postGraphQL(billing.url, { query: HAS_FEATURE, variables: { r: [store] } }, { token: world.tokens.admin })))._entities[0].hasFeature;
    /** The cache is invalidated by NOTIFY after the commit: the next requests see the change. */
    const eventually = async (expected: boolean) => {
      const deadline = Date.now() + 3000;
      let seen = await hasFeature();
      while (seen !== expected && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        seen = await hasFeature();
      }
      return seen;
    };

    expect(await hasFeature()).toBe(false); // essential: cached now
    const upgrade = stripeSubscription(m, { id: subscriptionId, price: 'price_professional_monthly' });
    expect(await deliver(eventOf('customer.subscription.updated', upgrade, T0 + 10))).toEqual(PROCESSED);
    expect(await eventually(true)).toBe(true);

    const deleted = stripeSubscription(m, { id: subscriptionId, price: 'price_professional_monthly', status: 'canceled' });
    expect(await deliver(eventOf('customer.subscription.deleted', deleted, T0 + 20))).toEqual(PROCESSED);
    expect(await eventually(false)).toBe(false);
    expect(await entitlementsOf(m)).toEqual({ status: 'CANCELLED', active: false });
  });
});

// ───────────── idempotency and concurrency ─────────────

describe('idempotency', () => {
  /** Delivers the same event `n` times at once; 500s (a lost race) are retried, as Stripe would, until answered. */
  async function deliverConcurrently(event: object, n: number): Promise<Array<{ status: number; body: any }>> {
    const first = await Promise.all(Array.from({ length: n }, () => deliver(event)));
    const answers = [];
    for (let answer of first) {
      for (let attempt = 0; answer.status === 500 && attempt < 5; attempt++) answer = await deliver(event);
      answers.push(answer);
    }
    return answers;
  }

  it('ten concurrent deliveries of one invoice.paid make one effect: one processed, nine duplicates', async () => {
    const { m, subscriptionId } = await linkedMerchant();
    expect(await deliver(eventOf('invoice.payment_failed', stripeInvoice(m, { id: 'in_race', subscription: subscriptionId, status: 'open' }), T0 + 10))).toEqual(PROCESSED);
    const paid = eventOf('invoice.paid', stripeInvoice(m, { id: 'in_race', subscription: subscriptionId }), T0 + 20);

    const answers = await deliverConcurrently(paid, 10);
    expect(answers.filter((a) => a.status === 200 && a.body.duplicate === false)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 200 && a.body.duplicate === true)).toHaveLength(9);
    expect(await countOf(`billing.billing_history WHERE stripe_invoice_id = $1`, ['in_race'])).toBe(1);
    expect(await historyOf(m)).toEqual([
      ['CREATED', null, 'ACTIVE', 'stripe'],
      ['STATUS_CHANGE', 'ACTIVE', 'PAST_DUE', 'stripe'],
      ['STATUS_CHANGE', 'PAST_DUE', 'ACTIVE', 'stripe'],
    ]);
    expect(await rowOf(m)).toMatchObject({ status: 'ACTIVE', paymentAttempts: 0 });
  });

  it('ten concurrent deliveries of one customer.subscription.created create one subscription', async () => {
    const m = await newMerchant();
    const created = eventOf('customer.subscription.created', stripeSubscription(m, { id: 'sub_race_created' }), T0);
    const answers = await deliverConcurrently(created, 10);
    expect(answers.filter((a) => a.body.duplicate === false)).toHaveLength(1);
    expect(answers.filter((a) => a.body.duplicate === true)).toHaveLength(9);
    expect(await countOf(`billing.merchant_subscriptions WHERE merchant_id = $1`, [m.merchantId])).toBe(1);
    expect(await historyOf(m)).toEqual([['CREATED', null, 'ACTIVE', 'stripe']]);
  });

  it('a checkout and its subscription racing for a merchant without a subscription make one subscription', async () => {
    const m = await newMerchant();
    const [a, b] = await Promise.all([
      deliver(eventOf('customer.subscription.created', stripeSubscription(m, { id: 'sub_race_pair', status: 'trialing', trialEnd: T0 + 30 * DAY }), T0)),
      deliver(eventOf('checkout.session.completed', checkoutSession(m, { subscription: 'sub_race_pair', paymentStatus: 'no_payment_required' }), T0)),
    ]);
    expect([a, b]).toEqual([PROCESSED, PROCESSED]);
    expect(await countOf(`billing.merchant_subscriptions WHERE merchant_id = $1`, [m.merchantId])).toBe(1);
    expect(await rowOf(m)).toMatchObject({ subscription: 'sub_race_pair', status: 'TRIAL' });
  });
});

// ───────────── order ─────────────

describe('events out of order', () => {
  type Build = (m: Merchant, subscriptionId: string, created: number) => StripeEventBody;
  const updated = (status: string): Build => (m, id, created) =>
    eventOf('customer.subscription.updated', stripeSubscription(m, { id, status, start: created, end: created + 30 * DAY }), created);
  const created: Build = (m, id, at) => eventOf('customer.subscription.created', stripeSubscription(m, { id, status: 'trialing', trialEnd: at + 30 * DAY }), at);
  const deleted: Build = (m, id, at) => eventOf('customer.subscription.deleted', stripeSubscription(m, { id, status: 'canceled', endedAt: at }), at);
  const checkout: Build = (m, id, at) => eventOf('checkout.session.completed', checkoutSession(m, { subscription: id }), at);
  const paid: Build = (m, id, at) => eventOf('invoice.paid', stripeInvoice(m, { id: `in_${id}_${at}`, subscription: id }), at);
  const failed: Build = (m, id, at) => eventOf('invoice.payment_failed', stripeInvoice(m, { id: `in_${id}_${at}`, subscription: id, status: 'open', attemptCount: 2 }), at);

  // [the older event, the newer event, the status either order ends in]
  const cases: Array<[string, Build, Build, string]> = [
    ['customer.subscription.updated', updated('active'), updated('past_due'), 'PAST_DUE'],
    ['customer.subscription.created', created, updated('active'), 'ACTIVE'],
    ['customer.subscription.deleted (newer)', updated('active'), deleted, 'CANCELLED'],
    ['customer.subscription.deleted (older)', deleted, updated('past_due'), 'PAST_DUE'],
    ['checkout.session.completed', checkout, updated('past_due'), 'PAST_DUE'],
    ['invoice.paid', paid, failed, 'PAST_DUE'],
    ['invoice.payment_failed', failed, paid, 'ACTIVE'],
  ];

  it.each(cases)('%s: the older event arriving last changes nothing; either order ends the same', async (_name, older, newer, status) => {
    // newer first, then older
    const first = await linkedMerchant(T0);
    expect(await deliver(newer(first.m, first.subscriptionId, T0 + 200))).toEqual(PROCESSED);
    const afterNewer = await rowOf(first.m);
    const historyAfterNewer = await historyOf(first.m);
    const late = older(first.m, first.subscriptionId, T0 + 100);
    expect(await deliver(late)).toEqual(PROCESSED);
    expect(await rowOf(first.m)).toEqual(afterNewer);
    expect(await historyOf(first.m)).toEqual(historyAfterNewer);
    expect((await recorded(late.id))?.outcome).toMatch(/stale: older than the stored state/);
    expect(afterNewer.status).toBe(status);

    // in order
    const second = await linkedMerchant(T0);
    expect(await deliver(older(second.m, second.subscriptionId, T0 + 100))).toEqual(PROCESSED);
    expect(await deliver(newer(second.m, second.subscriptionId, T0 + 200))).toEqual(PROCESSED);
    expect((await rowOf(second.m)).status).toBe(status);
  });

  // Subscription events and invoice events both speak to the status: the newer one decides it, whatever its family.
  // [the sequence, the status either order ends in, the older event, the newer event]
  const mixed: Array<[string, string, Build, Build]> = [
    ['updated(past_due), then a newer invoice.paid', 'ACTIVE', updated('past_due'), paid],
    ['invoice.paid, then a newer updated(past_due)', 'PAST_DUE', paid, updated('past_due')],
    ['updated(active), then a newer invoice.payment_failed', 'PAST_DUE', updated('active'), failed],
    ['invoice.payment_failed, then a newer updated(active)', 'ACTIVE', failed, updated('active')],
    ['checkout.session.completed, then a newer invoice.payment_failed', 'PAST_DUE', checkout, failed],
    ['invoice.payment_failed, then a newer checkout.session.completed', 'ACTIVE', failed, checkout],
    ['created(trialing), then a newer invoice.payment_failed', 'PAST_DUE', created, failed],
    ['created(trialing), then a newer invoice.paid', 'TRIAL', created, paid],
    ['invoice.payment_failed, then a newer deleted', 'CANCELLED', failed, deleted],
    // an ended subscription stays ended: a newer failed payment (its final invoice) does not reopen it
    ['deleted, then a newer invoice.payment_failed', 'CANCELLED', deleted, failed],
  ];

  it.each(mixed)('%s: either order ends in the newer event\'s status, %s', async (_name, status, older, newer) => {
    const inOrder = await linkedMerchant(T0);
    expect(await deliver(older(inOrder.m, inOrder.subscriptionId, T0 + 100))).toEqual(PROCESSED);
    expect(await deliver(newer(inOrder.m, inOrder.subscriptionId, T0 + 200))).toEqual(PROCESSED);
    const expected = await rowOf(inOrder.m);
    expect(expected.status).toBe(status);

    const reversed = await linkedMerchant(T0);
    expect(await deliver(newer(reversed.m, reversed.subscriptionId, T0 + 200))).toEqual(PROCESSED);
    expect(await deliver(older(reversed.m, reversed.subscriptionId, T0 + 100))).toEqual(PROCESSED);
    const row = await rowOf(reversed.m);
    // the same subscription as in order: status, attempts, tier, cycle, period and cancellation
    const pick = (r: any) => ({
      status: r.status,
      paymentAttempts: r.paymentAttempts,
      tier: r.tier,
      cycle: r.cycle,
      periodStart: r.periodStart,
      periodEnd: r.periodEnd,
      cancelAtPeriodEnd: r.cancelAtPeriodEnd,
      cancelled: r.cancelledAt !== null,
    });
    expect(pick(row)).toEqual(pick(expected));
    expect((await entitlementsOf(reversed.m)).status).toBe(status);
  });

  it('the two sequences of the report: a late payment event does not override a newer subscription status', async () => {
    // checkout completed (ACTIVE), updated(past_due) at T+50, a late invoice.paid created at T+40 → PAST_DUE
    const one = await newMerchant();
    const sub1 = `sub_${randomUUID().slice(0, 12)}`;
    expect(await deliver(eventOf('checkout.session.completed', checkoutSession(one, { subscription: sub1 }), T0))).toEqual(PROCESSED);
    expect((await rowOf(one)).status).toBe('ACTIVE');
    expect(await deliver(updated('past_due')(one, sub1, T0 + 50))).toEqual(PROCESSED);
    const latePaid = paid(one, sub1, T0 + 40);
    expect(await deliver(latePaid)).toEqual(PROCESSED);
    expect(await rowOf(one)).toMatchObject({ status: 'PAST_DUE' });
    expect((await recorded(latePaid.id))?.outcome).toMatch(/invoice .* recorded; stale: older than the stored state \(status\)/);
    expect(await countOf(`billing.billing_history WHERE stripe_invoice_id = $1`, [`in_${sub1}_${T0 + 40}`])).toBe(1);

    // updated(active) at T+50, then a late invoice.payment_failed created at T+40 → ACTIVE
    const two = await linkedMerchant(T0);
    expect(await deliver(updated('active')(two.m, two.subscriptionId, T0 + 50))).toEqual(PROCESSED);
    const lateFailure = failed(two.m, two.subscriptionId, T0 + 40);
    expect(await deliver(lateFailure)).toEqual(PROCESSED);
    expect(await rowOf(two.m)).toMatchObject({ status: 'ACTIVE', paymentAttempts: 0 });
    expect((await recorded(lateFailure.id))?.outcome).toMatch(/^attempt 2 of invoice \S+ failed; stale: older than the stored state \(status\)/);
  });

  it('a payment event is ordered against the newest of both marks: older than a newer subscription event, it is stale even when newer than the last payment', async () => {
    // failed at T+100 (PAST_DUE), updated(active) at T+300 (ACTIVE), then a late failure at T+200: Stripe's T+300 view
    // already knew of it
    const { m, subscriptionId } = await linkedMerchant(T0);
    expect(await deliver(failed(m, subscriptionId, T0 + 100))).toEqual(PROCESSED);
    expect(await deliver(updated('active')(m, subscriptionId, T0 + 300))).toEqual(PROCESSED);
    const late = failed(m, subscriptionId, T0 + 200);
    expect(await deliver(late)).toEqual(PROCESSED);
    expect(await rowOf(m)).toMatchObject({ status: 'ACTIVE', paymentAttempts: 0 });
    expect((await recorded(late.id))?.outcome).toMatch(/stale: older than the stored state \(status\) of /);
  });

  it('the outcome of each event says what it did', async () => {
    const m = await newMerchant();
    const id = `sub_${randomUUID().slice(0, 12)}`;
    const create = eventOf('customer.subscription.created', stripeSubscription(m, { id }), T0);
    expect(await deliver(create)).toEqual(PROCESSED);
    expect((await recorded(create.id))?.outcome).toBe('created: essential MONTHLY ACTIVE');
    const toPastDue = updated('past_due')(m, id, T0 + 10);
    expect(await deliver(toPastDue)).toEqual(PROCESSED);
    expect((await recorded(toPastDue.id))?.outcome).toBe('applied: STATUS_CHANGE ACTIVE → PAST_DUE');
    const upgrade = eventOf('customer.subscription.updated', stripeSubscription(m, { id, status: 'past_due', price: 'price_professional_monthly', start: T0 + 20, end: T0 + 20 + 30 * DAY }), T0 + 20);
    expect(await deliver(upgrade)).toEqual(PROCESSED);
    expect((await recorded(upgrade.id))?.outcome).toBe('applied: UPGRADE essential → professional');
    const cancelling = eventOf('customer.subscription.updated', stripeSubscription(m, { id, status: 'past_due', price: 'price_professional_monthly', start: T0 + 20, end: T0 + 20 + 30 * DAY, cancelAtPeriodEnd: true }), T0 + 30);
    expect(await deliver(cancelling)).toEqual(PROCESSED);
    expect((await recorded(cancelling.id))?.outcome).toBe('applied: STATUS_CHANGE (cancels at the end of the period)');
    const same = eventOf('customer.subscription.updated', stripeSubscription(m, { id, status: 'past_due', price: 'price_professional_monthly', start: T0 + 20, end: T0 + 20 + 30 * DAY, cancelAtPeriodEnd: true }), T0 + 40);
    expect(await deliver(same)).toEqual(PROCESSED);
    expect((await recorded(same.id))?.outcome).toBe('applied: no visible change');
  });

  it('a live subscription is never taken over by another Stripe subscription; an ended one is, by a subscription event (not by an invoice)', async () => {
    const { m, subscriptionId } = await linkedMerchant(T0);
    const other = `sub_${randomUUID().slice(0, 12)}`;
    const before = await rowOf(m);
    const takeover = eventOf('customer.subscription.updated', stripeSubscription(m, { id: other, status: 'active' }), T0 + 10);
    expect(await deliver(takeover)).toEqual(PROCESSED);
    expect((await recorded(takeover.id))?.outcome).toBe(`ignored: the merchant's subscription is linked to ${subscriptionId}`);
    expect(await rowOf(m)).toEqual(before);
    // an invoice of another subscription changes nothing either, even once the linked one has ended
    expect(await deliver(deleted(m, subscriptionId, T0 + 20))).toEqual(PROCESSED);
    const ended = await rowOf(m);
    expect(ended.status).toBe('CANCELLED');
    const otherInvoice = failed(m, other, T0 + 30);
    expect(await deliver(otherInvoice)).toEqual(PROCESSED);
    expect((await recorded(otherInvoice.id))?.outcome).toBe(`ignored: the merchant's subscription is linked to ${subscriptionId}`);
    expect(await rowOf(m)).toEqual(ended);
    // a new subscription for the ended one relinks it
    expect(await deliver(eventOf('customer.subscription.created', stripeSubscription(m, { id: other, status: 'active' }), T0 + 40))).toEqual(PROCESSED);
    expect(await rowOf(m)).toMatchObject({ status: 'ACTIVE', subscription: other });
  });

  it('an expired subscription is relinked by a new one too; an event without a link or metadata is ignored', async () => {
    const { m, subscriptionId } = await linkedMerchant(T0);
    expect(await deliver(updated('paused')(m, subscriptionId, T0 + 10))).toEqual(PROCESSED);
    expect((await rowOf(m)).status).toBe('EXPIRED');
    const renewed = `sub_${randomUUID().slice(0, 12)}`;
    expect(await deliver(eventOf('customer.subscription.created', stripeSubscription(m, { id: renewed, status: 'active' }), T0 + 20))).toEqual(PROCESSED);
    expect(await rowOf(m)).toMatchObject({ status: 'ACTIVE', subscription: renewed });
    const stray = eventOf('customer.subscription.updated', stripeSubscription(m, { id: `sub_${randomUUID().slice(0, 12)}`, metadata: {} }), T0 + 30);
    expect(await deliver(stray)).toEqual(PROCESSED);
    expect((await recorded(stray.id))?.outcome).toBe('ignored: unknown subscription (not linked, no merchant in the metadata)');
  });

  it('a paid invoice arriving after a newer failure is still recorded in the billing history', async () => {
    const { m, subscriptionId } = await linkedMerchant();
    expect(await deliver(failed(m, subscriptionId, T0 + 200))).toEqual(PROCESSED);
    const late = eventOf('invoice.paid', stripeInvoice(m, { id: 'in_late_paid', subscription: subscriptionId }), T0 + 100);
    expect(await deliver(late)).toEqual(PROCESSED);
    expect(await countOf(`billing.billing_history WHERE stripe_invoice_id = $1`, ['in_late_paid'])).toBe(1);
    expect(await rowOf(m)).toMatchObject({ status: 'PAST_DUE' });
  });
});

// ───────────── failures ─────────────

describe('a failure midway', () => {
  it('answers 500 and writes nothing; the retry of the same event completes once', async () => {
    const { m, subscriptionId } = await linkedMerchant();
    expect(await deliver(eventOf('invoice.payment_failed', stripeInvoice(m, { id: 'in_fail_midway', subscription: subscriptionId, status: 'open' }), T0 + 10))).toEqual(
      PROCESSED,
    );
    const before = await rowOf(m);
    const historyBefore = await historyOf(m);
    const paid = eventOf('invoice.paid', stripeInvoice(m, { id: 'in_fail_midway', subscription: subscriptionId }), T0 + 20);

    // injected: the history insert fails, after the handler wrote the invoice row and updated the subscription
    await billing.dataSource.query(`
      CREATE FUNCTION billing.test_refuse_history() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'injected failure'; END $$`);
    await billing.dataSource.query(
      `CREATE TRIGGER test_refuse_history BEFORE INSERT ON billing.subscription_history FOR EACH ROW EXECUTE FUNCTION billing.test_refuse_history()`,
    );
    let failure: { status: number; body: any };
    try {
      failure = await deliver(paid);
    } finally {
      await billing.dataSource.query(`DROP TRIGGER test_refuse_history ON billing.subscription_history`);
      await billing.dataSource.query(`DROP FUNCTION billing.test_refuse_history()`);
    }
    expect(failure.status).toBe(500);
    expect(failure.body).toEqual({ error: expect.any(String) });
    expect(await countOf(`billing.billing_history WHERE stripe_invoice_id = $1`, ['in_fail_midway'])).toBe(0);
    expect(await rowOf(m)).toEqual(before);
    expect(await historyOf(m)).toEqual(historyBefore);
    expect(await recorded(paid.id)).toBeNull();

    expect(await deliver(paid)).toEqual(PROCESSED);
    expect(await deliver(paid)).toEqual(DUPLICATE);
    expect(await countOf(`billing.billing_history WHERE stripe_invoice_id = $1`, ['in_fail_midway'])).toBe(1);
    expect(await rowOf(m)).toMatchObject({ status: 'ACTIVE', paymentAttempts: 0 });
    expect(await historyOf(m)).toEqual([...historyBefore, ['STATUS_CHANGE', 'PAST_DUE', 'ACTIVE', 'stripe']]);
  });
});
