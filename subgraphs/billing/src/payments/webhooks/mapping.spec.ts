import { checkoutSessionSchema, invoiceSchema, subscriptionSchema, type StripeSubscription } from './events';
import {
  withNewerPayment,
  cycleOfInterval,
  historyOf,
  priceOfSubscription,
  invoiceRecordOf,
  isOlderThanState,
  linkMetadataOf,
  periodOfSubscription,
  stateAfterCheckout,
  stateAfterInvoicePaid,
  stateAfterPaymentFailed,
  stateOfStripeSubscription,
  statusAfterCheckout,
  subscriptionOfInvoice,
  subscriptionStatusOf,
  tierChangeOf,
  tierOfPrice,
  type SubscriptionState,
  type TierPrices,
} from './mapping';

const essential: TierPrices = { id: 't-ess', code: 'essential', priceMonthlyCents: 4900, stripePriceMonthlyId: 'price_ess_m', stripePriceAnnualId: 'price_ess_y' };
const professional: TierPrices = { id: 't-pro', code: 'professional', priceMonthlyCents: 9900, stripePriceMonthlyId: 'price_pro_m', stripePriceAnnualId: null };
const business: TierPrices = { id: 't-bus', code: 'business', priceMonthlyCents: 19900, stripePriceMonthlyId: null, stripePriceAnnualId: null };
const tiers = [essential, professional, business];
const at = (iso: string) => new Date(iso);
const unix = (iso: string) => Date.parse(iso) / 1000;
const noLink = { tierCode: null, billingCycle: null };

function stripeSubscription(overrides: Record<string, unknown> = {}, item: Record<string, unknown> = {}): StripeSubscription {
  return subscriptionSchema.parse({
    object: 'subscription',
    id: 'sub_1',
    customer: 'cus_1',
    status: 'active',
    metadata: {},
    items: {
      data: [
        {
          id: 'si_1',
          price: { id: 'price_pro_m', recurring: { interval: 'month' } },
          current_period_start: unix('2025-03-01T00:00:00Z'),
          current_period_end: unix('2025-04-01T00:00:00Z'),
          ...item,
        },
      ],
    },
    cancel_at_period_end: false,
    ...overrides,
  });
}

const stored: SubscriptionState = {
  tier: essential,
  status: 'ACTIVE',
  billingCycle: 'MONTHLY',
  periodStart: at('2025-02-01T00:00:00Z'),
  periodEnd: at('2025-03-01T00:00:00Z'),
  trialEndsAt: null,
  cancelAtPeriodEnd: false,
  cancelledAt: null,
  stripeCustomerId: 'cus_1',
  stripeSubscriptionId: 'sub_1',
  paymentAttempts: 0,
};

describe('subscriptionStatusOf', () => {
  it.each([
    ['trialing', 'TRIAL'],
    ['active', 'ACTIVE'],
    ['past_due', 'PAST_DUE'],
    ['unpaid', 'PAST_DUE'],
    ['canceled', 'CANCELLED'],
    ['incomplete_expired', 'EXPIRED'],
    ['paused', 'EXPIRED'],
    ['incomplete', null],
    ['something_new', null],
  ])('%s → %s', (stripe, billing) => {
    expect(subscriptionStatusOf(stripe)).toBe(billing);
  });
});

describe('tierOfPrice', () => {
  it('finds the tier and the cycle by its monthly or annual price', () => {
    expect(tierOfPrice(tiers, { id: 'price_ess_y', interval: 'year' }, noLink)).toEqual({ tier: essential, cycle: 'ANNUAL' });
    expect(tierOfPrice(tiers, { id: 'price_pro_m', interval: 'month' }, { tierCode: 'business', billingCycle: 'ANNUAL' })).toEqual({
      tier: professional,
      cycle: 'MONTHLY',
    });
  });

  it('falls back to the metadata tier, the cycle from the interval, else the metadata', () => {
    expect(tierOfPrice(tiers, { id: 'price_unknown', interval: 'year' }, { tierCode: 'business', billingCycle: 'MONTHLY' })).toEqual({
      tier: business,
      cycle: 'ANNUAL',
    });
    expect(tierOfPrice(tiers, null, { tierCode: 'business', billingCycle: 'ANNUAL' })).toEqual({ tier: business, cycle: 'ANNUAL' });
    expect(tierOfPrice(tiers, null, { tierCode: 'business', billingCycle: null })).toEqual({ tier: business, cycle: 'MONTHLY' });
  });

  it('is null for an unknown price without a known metadata tier', () => {
    expect(tierOfPrice(tiers, { id: 'price_unknown', interval: 'month' }, noLink)).toBeNull();
    expect(tierOfPrice(tiers, { id: 'price_unknown', interval: 'month' }, { tierCode: 'gold', billingCycle: null })).toBeNull();
  });
});

describe('linkMetadataOf', () => {
  it('reads ids in lower case, defaults and rejects what is malformed', () => {
    const merchantId = 'AAAAAAAA-AAAA-4AAA-8AAA-AAAAAAAAAAAA';
    const platformId = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb';
    expect(linkMetadataOf({ merchantId, platformId, tierCode: 'professional', billingCycle: 'annual', quantity: '3', kind: 'addon', domainName: ' Shop.Example.COM ' })).toEqual({
      kind: 'addon',
      pair: { merchantId: merchantId.toLowerCase(), platformId },
      storeId: null,
      merchantName: null,
      tierCode: 'professional',
      billingCycle: 'ANNUAL',
      addOnCode: null,
      quantity: 3,
      domainName: 'shop.example.com',
    });
    expect(linkMetadataOf({ merchantId: 'not-a-uuid', platformId, tierCode: 'Bad Code', billingCycle: 'weekly', quantity: '0' })).toMatchObject({
      kind: 'subscription',
      pair: null,
      tierCode: null,
      billingCycle: null,
      quantity: 1,
    });
  });
});

describe('periods and order', () => {
  it('reads the period from the first item (basil), else from the subscription', () => {
    expect(periodOfSubscription(stripeSubscription())).toEqual({ start: at('2025-03-01T00:00:00Z'), end: at('2025-04-01T00:00:00Z') });
    const legacy = stripeSubscription(
      { current_period_start: unix('2025-05-01T00:00:00Z'), current_period_end: unix('2025-06-01T00:00:00Z') },
      { current_period_start: undefined, current_period_end: undefined },
    );
    expect(periodOfSubscription(legacy)).toEqual({ start: at('2025-05-01T00:00:00Z'), end: at('2025-06-01T00:00:00Z') });
    expect(periodOfSubscription(stripeSubscription({}, { current_period_start: undefined, current_period_end: undefined }))).toBeNull();
  });

  it('an event older than the stored Stripe state is stale; the same second or newer is not', () => {
    expect(isOlderThanState(at('2025-01-01T00:00:00Z'), null)).toBe(false);
    expect(isOlderThanState(at('2025-01-01T00:00:00Z'), at('2025-01-01T00:00:01Z'))).toBe(true);
    expect(isOlderThanState(at('2025-01-01T00:00:01Z'), at('2025-01-01T00:00:01Z'))).toBe(false);
  });
});

describe('stateOfStripeSubscription', () => {
  const now = at('2025-03-01T00:00:05Z');

  it('takes tier, status, periods, trial end and ids from Stripe', () => {
    const next = stateOfStripeSubscription(null, stripeSubscription({ status: 'trialing', trial_end: unix('2025-03-31T00:00:00Z') }), { tier: professional, cycle: 'MONTHLY' }, now);
    expect(next).toEqual({
      tier: professional,
      status: 'TRIAL',
      billingCycle: 'MONTHLY',
      periodStart: at('2025-03-01T00:00:00Z'),
      periodEnd: at('2025-04-01T00:00:00Z'),
      trialEndsAt: at('2025-03-31T00:00:00Z'),
      cancelAtPeriodEnd: false,
      cancelledAt: null,
      stripeCustomerId: 'cus_1',
      stripeSubscriptionId: 'sub_1',
      paymentAttempts: 0,
    });
  });

  it('reads a cancellation at the period end from cancel_at_period_end or a cancel_at at the end', () => {
    const tier = { tier: essential, cycle: 'MONTHLY' as const };
    expect(stateOfStripeSubscription(stored, stripeSubscription({ cancel_at_period_end: true }), tier, now)?.cancelAtPeriodEnd).toBe(true);
    expect(stateOfStripeSubscription(stored, stripeSubscription({ cancel_at: unix('2025-04-01T00:00:00Z') }), tier, now)?.cancelAtPeriodEnd).toBe(true);
    expect(stateOfStripeSubscription(stored, stripeSubscription({ cancel_at: unix('2026-04-01T00:00:00Z') }), tier, now)?.cancelAtPeriodEnd).toBe(false);
  });

  it('a cancelled subscription keeps when it ended and has nothing pending', () => {
    const next = stateOfStripeSubscription(
      { ...stored, status: 'PAST_DUE', paymentAttempts: 3 },
      stripeSubscription({ status: 'canceled', cancel_at_period_end: true, ended_at: unix('2025-03-10T00:00:00Z') }),
      { tier: essential, cycle: 'MONTHLY' },
      now,
    );
    expect(next).toMatchObject({ status: 'CANCELLED', cancelAtPeriodEnd: false, cancelledAt: at('2025-03-10T00:00:00Z'), paymentAttempts: 0 });
  });

  it('incomplete keeps the stored status, and is nothing for a subscription billing does not have', () => {
    const tier = { tier: essential, cycle: 'MONTHLY' as const };
    expect(stateOfStripeSubscription({ ...stored, status: 'TRIAL' }, stripeSubscription({ status: 'incomplete' }), tier, now)?.status).toBe('TRIAL');
    expect(stateOfStripeSubscription(null, stripeSubscription({ status: 'incomplete' }), tier, now)).toBeNull();
  });
});

describe('checkout, invoices', () => {
  const session = (payment_status: string) =>
    checkoutSessionSchema.parse({ object: 'checkout.session', id: 'cs_1', mode: 'subscription', payment_status, customer: 'cus_9', subscription: { id: 'sub_9' }, metadata: null });

  it('a paid checkout activates; without payment a trial stays a trial', () => {
    expect(statusAfterCheckout('paid', 'TRIAL')).toBe('ACTIVE');
    expect(statusAfterCheckout('paid', 'PAST_DUE')).toBe('ACTIVE');
    expect(statusAfterCheckout('paid', null)).toBe('ACTIVE');
    expect(statusAfterCheckout('no_payment_required', 'TRIAL')).toBe('TRIAL');
    expect(statusAfterCheckout('no_payment_required', 'EXPIRED')).toBe('ACTIVE');
    // unpaid (a delayed payment method): no status follows until Stripe reports the payment
    expect(statusAfterCheckout('unpaid', 'PAST_DUE')).toBeNull();
    expect(statusAfterCheckout('unpaid', null)).toBeNull();
  });

  it.each(['TRIAL', 'ACTIVE', 'PAST_DUE', 'CANCELLED', 'EXPIRED'] as const)('an unpaid checkout changes nothing: %s stays as it is, unlinked', (status) => {
    const current = { ...stored, status, cancelledAt: status === 'CANCELLED' ? at('2025-06-01T00:00:00Z') : null };
    expect(stateAfterCheckout(current, session('unpaid'), { tier: professional, cycle: 'MONTHLY' }, at('2025-06-15T12:00:00Z'))).toBe('payment pending');
  });

  it('an unpaid checkout without a subscription creates none (the merchant gets no plan before paying)', () => {
    expect(stateAfterCheckout(null, session('unpaid'), { tier: professional, cycle: 'MONTHLY' }, at('2025-06-15T12:00:00Z'))).toBe('payment pending');
  });

  it('a checkout links customer and subscription (an expanded one by its id) and starts a period for a new or ended subscription', () => {
    const now = at('2025-06-15T12:00:00Z');
    expect(stateAfterCheckout({ ...stored, status: 'CANCELLED', cancelledAt: now }, session('paid'), { tier: professional, cycle: 'MONTHLY' }, now)).toMatchObject({
      tier: professional,
      status: 'ACTIVE',
      periodStart: now,
      periodEnd: at('2025-07-15T12:00:00Z'),
      cancelledAt: null,
      stripeCustomerId: 'cus_9',
      stripeSubscriptionId: 'sub_9',
    });
    expect(stateAfterCheckout(null, session('paid'), null, now)).toBe('unknown tier');
  });

  it('a paid invoice ends past due; a failed one makes a running subscription past due', () => {
    expect(stateAfterInvoicePaid({ ...stored, status: 'PAST_DUE', paymentAttempts: 2 })).toMatchObject({ status: 'ACTIVE', paymentAttempts: 0 });
    expect(stateAfterInvoicePaid({ ...stored, status: 'TRIAL' }).status).toBe('TRIAL');
    expect(stateAfterPaymentFailed(stored, 2)).toMatchObject({ status: 'PAST_DUE', paymentAttempts: 2 });
    expect(stateAfterPaymentFailed({ ...stored, status: 'PAST_DUE', paymentAttempts: 2 }, null)).toMatchObject({ paymentAttempts: 3 });
    expect(stateAfterPaymentFailed({ ...stored, status: 'CANCELLED' }, 1)).toBeNull();
  });

  it('reads an invoice (basil parent or legacy subscription) into a billing-history row', () => {
    const invoice = invoiceSchema.parse({
      object: 'invoice',
      id: 'in_1',
      number: 'A-1',
      status: 'paid',
      amount_due: 9900,
      amount_paid: 9900,
      currency: 'eur',
      created: unix('2025-03-01T00:00:00Z'),
      period_start: unix('2025-02-01T00:00:00Z'),
      period_end: unix('2025-03-01T00:00:00Z'),
      parent: { subscription_details: { subscription: 'sub_1', metadata: { kind: 'subscription' } } },
      lines: { data: [{ period: { start: unix('2025-03-01T00:00:00Z'), end: unix('2025-04-01T00:00:00Z') } }] },
    });
    expect(subscriptionOfInvoice(invoice)).toEqual({ id: 'sub_1', metadata: { kind: 'subscription' } });
    expect(subscriptionOfInvoice(invoiceSchema.parse({ ...invoice, parent: null, subscription: 'sub_old' }))).toEqual({ id: 'sub_old', metadata: {} });
    expect(invoiceRecordOf(invoice, 'paid')).toEqual({
      stripeInvoiceId: 'in_1',
      number: 'A-1',
      status: 'paid',
      amountDueCents: 9900,
      amountPaidCents: 9900,
      currency: 'EUR',
      periodStart: at('2025-03-01T00:00:00Z'),
      periodEnd: at('2025-04-01T00:00:00Z'),
      invoicePdfUrl: null,
      createdAt: at('2025-03-01T00:00:00Z'),
    });
  });
});

describe('historyOf', () => {
  it('names what changed as the subscriptions do', () => {
    expect(tierChangeOf(essential, professional)).toBe('UPGRADE');
    expect(tierChangeOf(professional, essential)).toBe('DOWNGRADE');
    expect(tierChangeOf(essential, { ...essential, id: 'other' })).toBe('TIER_CHANGE');
    expect(historyOf(null, stored).map((h) => [h.change, h.toTierCode, h.toStatus])).toEqual([['CREATED', 'essential', 'ACTIVE']]);
    expect(historyOf(stored, { ...stored, tier: professional, billingCycle: 'ANNUAL', status: 'TRIAL' }).map((h) => h.change)).toEqual([
      'UPGRADE',
      'CYCLE_CHANGE',
      'TRIAL_STARTED',
    ]);
    expect(historyOf(stored, { ...stored, status: 'PAST_DUE' })).toEqual([
      { change: 'STATUS_CHANGE', fromStatus: 'ACTIVE', toStatus: 'PAST_DUE', fromTierCode: null, toTierCode: null, reason: null },
    ]);
    expect(historyOf(stored, { ...stored, cancelAtPeriodEnd: true }).map((h) => h.reason)).toEqual(['cancels at the end of the period']);
    expect(historyOf(stored, { ...stored, status: 'PAST_DUE', cancelAtPeriodEnd: true }).map((h) => h.change)).toEqual(['STATUS_CHANGE', 'STATUS_CHANGE']);
    expect(historyOf({ ...stored, cancelAtPeriodEnd: true }, { ...stored, status: 'CANCELLED' }).map((h) => h.toStatus)).toEqual(['CANCELLED']);
    expect(historyOf(stored, { ...stored, paymentAttempts: 2 })).toEqual([]);
  });
});

// Each case below was a surviving mutant of `pnpm test:mutation mapping`: a rule no test could tell from its
// broken variant (the line of mapping.ts it guards is named).
describe('rules the mutation run found unguarded', () => {
  const now = at('2025-03-01T00:00:05Z');
  const withoutPeriod = (overrides: Record<string, unknown> = {}) =>
    stripeSubscription(overrides, { current_period_start: undefined, current_period_end: undefined });
  const session = (payment_status: string, extra: Record<string, unknown> = {}) =>
    checkoutSessionSchema.parse({ object: 'checkout.session', id: 'cs_2', mode: 'subscription', payment_status, customer: null, subscription: null, metadata: null, ...extra });

  it('reads the cycle of an interval (cycleOfInterval)', () => {
    expect([cycleOfInterval('month'), cycleOfInterval('year'), cycleOfInterval('week'), cycleOfInterval(null)]).toEqual(['MONTHLY', 'ANNUAL', null, null]);
  });

  it('takes a metadata tier code only when all of it is well formed, and a cycle it names (linkMetadataOf)', () => {
    expect(linkMetadataOf({ tierCode: 'professional!!' }).tierCode).toBeNull();
    expect(linkMetadataOf({ tierCode: 'p'.repeat(65) }).tierCode).toBeNull();
    expect(linkMetadataOf({ billingCycle: 'monthly' }).billingCycle).toBe('MONTHLY');
    expect(linkMetadataOf({ quantity: '2' }).quantity).toBe(2);
  });

  it('reads the price of the first item, its interval when recurring (priceOfSubscription)', () => {
    expect(priceOfSubscription(stripeSubscription())).toEqual({ id: 'price_pro_m', interval: 'month' });
    expect(priceOfSubscription(stripeSubscription({}, { price: { id: 'price_once' } }))).toEqual({ id: 'price_once', interval: null });
    expect(priceOfSubscription(stripeSubscription({ items: { data: [] } }))).toBeNull();
  });

  it('takes a period only when both ends are known and it is not empty (periodOfSubscription)', () => {
    const start = unix('2025-05-01T00:00:00Z');
    expect(periodOfSubscription(stripeSubscription({ items: { data: [] }, current_period_start: start, current_period_end: start + 86400 }))).toEqual({
      start: at('2025-05-01T00:00:00Z'),
      end: at('2025-05-02T00:00:00Z'),
    });
    expect(periodOfSubscription(stripeSubscription({}, { current_period_start: start, current_period_end: start }))).toBeNull();
    expect(periodOfSubscription(stripeSubscription({}, { current_period_start: start + 1, current_period_end: start }))).toBeNull();
    expect(periodOfSubscription(stripeSubscription({}, { current_period_start: start, current_period_end: undefined }))).toBeNull();
    expect(periodOfSubscription(stripeSubscription({}, { current_period_start: undefined, current_period_end: start }))).toBeNull();
  });

  it('without a period from Stripe: the stored one while the cycle stays, a first one when it changes or nothing is stored (stateOfStripeSubscription)', () => {
    const monthly = { tier: essential, cycle: 'MONTHLY' as const };
    expect(stateOfStripeSubscription(stored, withoutPeriod(), monthly, now)).toMatchObject({ periodStart: stored.periodStart, periodEnd: stored.periodEnd });
    expect(stateOfStripeSubscription(stored, withoutPeriod(), { tier: essential, cycle: 'ANNUAL' }, now)).toMatchObject({ periodStart: now, periodEnd: at('2026-03-01T00:00:05Z') });
    expect(stateOfStripeSubscription(null, withoutPeriod(), monthly, now)).toMatchObject({ periodStart: now, periodEnd: at('2025-04-01T00:00:05Z') });
  });

  it('keeps what Stripe leaves out: no trial end is none, no customer keeps the stored one (stateOfStripeSubscription)', () => {
    const next = stateOfStripeSubscription({ ...stored, stripeCustomerId: 'cus_kept' }, stripeSubscription({ customer: null, trial_end: null }), { tier: essential, cycle: 'MONTHLY' }, now);
    expect(next).toMatchObject({ trialEndsAt: null, stripeCustomerId: 'cus_kept' });
  });

  it('a subscription cancelled before keeps its first cancellation time; past due keeps the attempts (stateOfStripeSubscription)', () => {
    const tier = { tier: essential, cycle: 'MONTHLY' as const };
    const first = at('2025-02-20T00:00:00Z');
    const again = stripeSubscription({ status: 'canceled', ended_at: unix('2025-03-10T00:00:00Z') });
    expect(stateOfStripeSubscription({ ...stored, status: 'CANCELLED', cancelledAt: first }, again, tier, now)?.cancelledAt).toEqual(first);
    expect(stateOfStripeSubscription({ ...stored, status: 'ACTIVE', cancelledAt: first }, again, tier, now)?.cancelledAt).toEqual(at('2025-03-10T00:00:00Z'));
    expect(stateOfStripeSubscription({ ...stored, status: 'PAST_DUE', paymentAttempts: 3 }, stripeSubscription({ status: 'past_due' }), tier, now)?.paymentAttempts).toBe(3);
    expect(stateOfStripeSubscription(null, stripeSubscription({ status: 'past_due' }), tier, now)?.paymentAttempts).toBe(0);
  });

  it('a checkout without a tier keeps the stored tier and cycle, period, trial, links and attempts where they stay (stateAfterCheckout)', () => {
    const current = { ...stored, billingCycle: 'ANNUAL' as const, status: 'TRIAL' as const, trialEndsAt: at('2025-03-20T00:00:00Z'), paymentAttempts: 2 };
    expect(stateAfterCheckout(current, session('no_payment_required'), null, now)).toMatchObject({
      tier: essential,
      billingCycle: 'ANNUAL',
      status: 'TRIAL',
      periodStart: stored.periodStart,
      trialEndsAt: at('2025-03-20T00:00:00Z'),
      stripeCustomerId: 'cus_1',
      stripeSubscriptionId: 'sub_1',
      paymentAttempts: 2,
    });
    // a new cycle, or an ended subscription: a first period from now
    expect(stateAfterCheckout(stored, session('paid'), { tier: essential, cycle: 'ANNUAL' }, now)).toMatchObject({ periodStart: now });
    expect(stateAfterCheckout({ ...stored, status: 'EXPIRED' }, session('paid'), { tier: essential, cycle: 'MONTHLY' }, now)).toMatchObject({ periodStart: now, status: 'ACTIVE' });
    expect(stateAfterCheckout({ ...stored, status: 'PAST_DUE', paymentAttempts: 2 }, session('paid'), null, now)).toMatchObject({ periodStart: stored.periodStart, paymentAttempts: 0 });
  });

  it('history: a cycle change says from what to what; a subscription that expires has nothing pending to withdraw (historyOf)', () => {
    expect(historyOf(stored, { ...stored, billingCycle: 'ANNUAL' }).map((h) => h.reason)).toEqual(['MONTHLY → ANNUAL']);
    expect(historyOf({ ...stored, cancelAtPeriodEnd: true }, { ...stored, status: 'EXPIRED' }).map((h) => [h.change, h.toStatus, h.reason])).toEqual([
      ['STATUS_CHANGE', 'EXPIRED', null],
    ]);
  });

  it('a failed payment does nothing to an expired subscription (stateAfterPaymentFailed)', () => {
    expect(stateAfterPaymentFailed({ ...stored, status: 'EXPIRED' }, 1)).toBeNull();
  });

  it('an invoice without lines bills its own period; without any period, none; without a status, the event’s (invoiceRecordOf)', () => {
    const base = {
      object: 'invoice',
      id: 'in_2',
      amount_due: 100,
      amount_paid: 0,
      currency: 'eur',
      created: unix('2025-03-01T00:00:00Z'),
      period_start: unix('2025-02-01T00:00:00Z'),
      period_end: unix('2025-03-01T00:00:00Z'),
    };
    expect(invoiceRecordOf(invoiceSchema.parse(base), 'open')).toMatchObject({ status: 'open', periodStart: at('2025-02-01T00:00:00Z'), periodEnd: at('2025-03-01T00:00:00Z') });
    expect(invoiceRecordOf(invoiceSchema.parse({ ...base, lines: { data: [{}] } }), 'open')).toMatchObject({ periodStart: at('2025-02-01T00:00:00Z') });
    expect(invoiceRecordOf(invoiceSchema.parse({ ...base, period_start: null, period_end: null }), 'open')).toMatchObject({ periodStart: null, periodEnd: null });
    expect(invoiceRecordOf(invoiceSchema.parse({ ...base, status: 'uncollectible' }), 'open').status).toBe('uncollectible');
  });

  it('from nothing stored: a cancellation at its Stripe time, else the event’s; no customer is none; a checkout starts a period, with nothing pending', () => {
    const tier = { tier: essential, cycle: 'MONTHLY' as const };
    expect(stateOfStripeSubscription(null, stripeSubscription({ status: 'canceled', ended_at: unix('2025-03-10T00:00:00Z') }), tier, now)?.cancelledAt).toEqual(at('2025-03-10T00:00:00Z'));
    expect(stateOfStripeSubscription(null, stripeSubscription({ status: 'canceled' }), tier, at('2025-03-01T00:00:05.750Z'))?.cancelledAt).toEqual(at('2025-03-01T00:00:05Z'));
    expect(stateOfStripeSubscription(null, stripeSubscription({ customer: null }), tier, now)?.stripeCustomerId).toBeNull();
    expect(stateAfterCheckout(null, session('paid'), { tier: professional, cycle: 'MONTHLY' }, now)).toEqual({
      tier: professional,
      status: 'ACTIVE',
      billingCycle: 'MONTHLY',
      periodStart: now,
      periodEnd: at('2025-04-01T00:00:05Z'),
      trialEndsAt: null,
      cancelAtPeriodEnd: false,
      cancelledAt: null,
      stripeCustomerId: null,
      stripeSubscriptionId: null,
      paymentAttempts: 0,
    });
    expect(stateAfterCheckout({ ...stored, cancelAtPeriodEnd: true }, session('paid'), null, now)).toMatchObject({ cancelAtPeriodEnd: false });
  });

  it('an ended subscription has nothing pending; an explicit cancel_at of null is no cancellation (stateOfStripeSubscription)', () => {
    const tier = { tier: essential, cycle: 'MONTHLY' as const };
    expect(stateOfStripeSubscription(stored, stripeSubscription({ status: 'paused', cancel_at_period_end: true }), tier, now)).toMatchObject({ status: 'EXPIRED', cancelAtPeriodEnd: false });
    expect(stateOfStripeSubscription(stored, stripeSubscription({ cancel_at: null }), tier, now)?.cancelAtPeriodEnd).toBe(false);
  });

  it('a tier change names both tiers; an invoice with an empty list of lines bills its own period', () => {
    expect(historyOf(stored, { ...stored, tier: professional }).map((h) => [h.change, h.fromTierCode, h.toTierCode])).toEqual([['UPGRADE', 'essential', 'professional']]);
    const invoice = invoiceSchema.parse({
      object: 'invoice', id: 'in_3', amount_due: 1, amount_paid: 1, currency: 'eur', created: unix('2025-03-01T00:00:00Z'),
      period_start: unix('2025-02-01T00:00:00Z'), period_end: unix('2025-03-01T00:00:00Z'), lines: { data: [] },
    });
    expect(invoiceRecordOf(invoice, 'paid')).toMatchObject({ periodStart: at('2025-02-01T00:00:00Z') });
  });

  it('a subscription event older than the newest payment gets its verdict on top, a newer one does not (withNewerPayment)', () => {
    const late = at('2025-03-01T00:00:00Z');
    const paidLater = { paymentStateAt: at('2025-03-02T00:00:00Z'), paymentVerdict: 'PAID' as const, paymentAttempts: 0 };
    const failedLater = { paymentStateAt: at('2025-03-02T00:00:00Z'), paymentVerdict: 'FAILED' as const, paymentAttempts: 4 };
    const pastDue = { ...stored, status: 'PAST_DUE' as const, paymentAttempts: 1 };
    expect(withNewerPayment(pastDue, late, paidLater)).toMatchObject({ status: 'ACTIVE', paymentAttempts: 0 });
    expect(withNewerPayment(stored, late, failedLater)).toMatchObject({ status: 'PAST_DUE', paymentAttempts: 4 });
    expect(withNewerPayment({ ...stored, status: 'CANCELLED' }, late, failedLater)).toMatchObject({ status: 'CANCELLED' });
    // the event is the newer one, or no payment was seen: as it is
    expect(withNewerPayment(pastDue, at('2025-03-03T00:00:00Z'), paidLater)).toBe(pastDue);
    expect(withNewerPayment(pastDue, late, null)).toBe(pastDue);
    expect(withNewerPayment(pastDue, late, { ...paidLater, paymentVerdict: null })).toBe(pastDue);
  });
});
