import { isUuid, type MerchantPlatform, type SubscriptionStatus } from '@tiergraph/runtime';
import type { BillingCycle } from '../../database/entities';
import { firstPeriod, type Period } from '../../subscriptions/periods';
import { historyEntry, tierChangeOf, type HistoryChange, type TierRef } from '../../subscriptions/subscription-rules';
import type { CheckoutSession, StripeInvoice, StripeSubscription } from './events';

// the subscriptions' rules, as the webhook rules (and their tests) use them
export { tierChangeOf };
export type { HistoryChange, MerchantPlatform, TierRef };

/** How Stripe's subscription statuses read in billing; null: no billing status follows from it (keep what is stored). */
export function subscriptionStatusOf(stripeStatus: string): SubscriptionStatus | null {
  switch (stripeStatus) {
    case 'trialing':
      return 'TRIAL';
    case 'active':
      return 'ACTIVE';
    case 'past_due':
    case 'unpaid':
      return 'PAST_DUE';
    case 'canceled':
      return 'CANCELLED';
    case 'incomplete_expired':
    // a trial that ended without a payment method (missing_payment_method: pause)
    case 'paused':
      return 'EXPIRED';
    default:
      // incomplete: the first payment is still pending, Stripe tells the outcome later
      return null;
  }
}

/** The billing cycle a Stripe price's recurring interval means. */
export function cycleOfInterval(interval: string | null | undefined): BillingCycle | null {
  if (interval === 'year') return 'ANNUAL';
  if (interval === 'month') return 'MONTHLY';
  return null;
}

/** What billing's checkout sessions and subscriptions carry in their metadata, read defensively. */
export interface LinkMetadata {
  kind: 'subscription' | 'addon';
  pair: MerchantPlatform | null;
  storeId: string | null;
  merchantName: string | null;
  tierCode: string | null;
  billingCycle: BillingCycle | null;
  addOnCode: string | null;
  quantity: number;
  domainName: string | null;
}

const text = (value: string | undefined): string | null => value?.trim() || null;
const uuid = (value: string | undefined): string | null => (value && isUuid(value) ? value.toLowerCase() : null);

export function linkMetadataOf(metadata: Record<string, string>): LinkMetadata {
  const merchantId = uuid(metadata.merchantId);
  const platformId = uuid(metadata.platformId);
  const tierCode = text(metadata.tierCode);
  const billingCycle = text(metadata.billingCycle)?.toUpperCase();
  const quantity = Number(metadata.quantity);
  return {
    kind: metadata.kind === 'addon' ? 'addon' : 'subscription',
    pair: merchantId && platformId ? { merchantId, platformId } : null,
    storeId: uuid(metadata.storeId),
    merchantName: text(metadata.merchantName),
    tierCode: tierCode && /^[a-z0-9_-]{2,64}$/.test(tierCode) ? tierCode : null,
    billingCycle: billingCycle === 'MONTHLY' || billingCycle === 'ANNUAL' ? billingCycle : null,
    addOnCode: text(metadata.addOnCode),
    quantity: Number.isInteger(quantity) && quantity >= 1 ? quantity : 1,
    domainName: text(metadata.domainName)?.toLowerCase() ?? null,
  };
}

export interface TierPrices extends TierRef {
  stripePriceMonthlyId: string | null;
  stripePriceAnnualId: string | null;
}

export interface TierAndCycle {
  tier: TierRef;
  cycle: BillingCycle;
}

/**
 * The tier a subscription's price means: the tier whose monthly or annual Stripe price it is (and so the cycle),
 * else the tier the metadata names (cycle from the price's interval, else the metadata); null when neither is known.
 */
export function tierOfPrice(
  tiers: readonly TierPrices[],
  price: { id: string; interval: string | null } | null,
  link: Pick<LinkMetadata, 'tierCode' | 'billingCycle'>,
): TierAndCycle | null {
  if (price) {
    for (const tier of tiers) {
      if (tier.stripePriceMonthlyId === price.id) return { tier, cycle: 'MONTHLY' };
      if (tier.stripePriceAnnualId === price.id) return { tier, cycle: 'ANNUAL' };
    }
  }
  const named = link.tierCode ? tiers.find((tier) => tier.code === link.tierCode) : undefined;
  if (!named) return null;
  return { tier: named, cycle: cycleOfInterval(price?.interval) ?? link.billingCycle ?? 'MONTHLY' };
}

/** The price of the subscription's first item (billing's subscriptions have one). */
export function priceOfSubscription(subscription: StripeSubscription): { id: string; interval: string | null } | null {
  const item = subscription.items.data[0];
  return item ? { id: item.price.id, interval: item.price.recurring?.interval ?? null } : null;
}

const fromUnix = (seconds: number): Date => new Date(seconds * 1000);

/** The current period: on the first item since API 2025-08-27.basil, on the subscription before. */
export function periodOfSubscription(subscription: StripeSubscription): Period | null {
  const item = subscription.items.data[0];
  const start = item?.current_period_start ?? subscription.current_period_start;
  const end = item?.current_period_end ?? subscription.current_period_end;
  return start != null && end != null && end > start ? { start: fromUnix(start), end: fromUnix(end) } : null;
}

/** An event older than the newest one applied to the subscription changes nothing (events arrive out of order). */
export function isOlderThanState(eventTime: Date, stateAt: Date | null): boolean {
  return stateAt !== null && eventTime.getTime() < stateAt.getTime();
}

/** What billing stores of a subscription that Stripe events can change. */
export interface SubscriptionState {
  tier: TierRef;
  status: SubscriptionStatus;
  billingCycle: BillingCycle;
  periodStart: Date;
  periodEnd: Date;
  trialEndsAt: Date | null;
  cancelAtPeriodEnd: boolean;
  cancelledAt: Date | null;
  stripeCustomerId: string | null;
  stripeSubscriptionId: string | null;
  paymentAttempts: number;
}

/**
 * The state a Stripe subscription object describes, on top of what is stored (null: nothing yet). Null when it
 * says nothing billing can store yet (a first payment still pending on a subscription billing does not have).
 */
export function stateOfStripeSubscription(
  current: SubscriptionState | null,
  subscription: StripeSubscription,
  tierAndCycle: TierAndCycle,
  eventTime: Date,
): SubscriptionState | null {
  const status = subscriptionStatusOf(subscription.status) ?? current?.status;
  if (!status) return null;
  const cycleChanged = current !== null && current.billingCycle !== tierAndCycle.cycle;
  const period =
    periodOfSubscription(subscription) ??
    (current && !cycleChanged ? { start: current.periodStart, end: current.periodEnd } : firstPeriod(eventTime, tierAndCycle.cycle));
  const ended = status === 'CANCELLED' || status === 'EXPIRED';
  const cancelAt = subscription.cancel_at != null ? fromUnix(subscription.cancel_at) : null;
  return {
    tier: tierAndCycle.tier,
    status,
    billingCycle: tierAndCycle.cycle,
    periodStart: period.start,
    periodEnd: period.end,
    trialEndsAt: subscription.trial_end != null ? fromUnix(subscription.trial_end) : null,
    // since 2025 a cancellation at the period's end may come as cancel_at instead of cancel_at_period_end
    cancelAtPeriodEnd: !ended && (subscription.cancel_at_period_end === true || (cancelAt !== null && cancelAt.getTime() <= period.end.getTime())),
    cancelledAt:
      status === 'CANCELLED'
        ? current?.status === 'CANCELLED' && current.cancelledAt
          ? current.cancelledAt
          : fromUnix(subscription.ended_at ?? subscription.canceled_at ?? Math.floor(eventTime.getTime() / 1000))
        : null,
    stripeCustomerId: subscription.customer ?? current?.stripeCustomerId ?? null,
    stripeSubscriptionId: subscription.id,
    // a failing invoice keeps its count while past due; any other state has none
    paymentAttempts: status === 'PAST_DUE' ? (current?.paymentAttempts ?? 0) : 0,
  };
}

/**
 * The status a completed checkout gives: paid activates; without a payment (a trial subscription) a running trial
 * stays a trial; unpaid (a delayed payment method) gives none (null): nothing changes until Stripe reports how the
 * payment ended, with a subscription event that carries the merchant in its metadata.
 */
export function statusAfterCheckout(paymentStatus: string | null | undefined, current: SubscriptionStatus | null): SubscriptionStatus | null {
  if (paymentStatus === 'unpaid') return null;
  if (paymentStatus === 'no_payment_required' && current === 'TRIAL') return 'TRIAL';
  return 'ACTIVE';
}

/**
 * The state after a completed subscription checkout: activated (see statusAfterCheckout) and linked to Stripe;
 * or why there is none: no tier is known, or the checkout is unpaid (then nothing changes, not even the link).
 */
export function stateAfterCheckout(
  current: SubscriptionState | null,
  session: CheckoutSession,
  tierAndCycle: TierAndCycle | null,
  eventTime: Date,
): SubscriptionState | 'unknown tier' | 'payment pending' {
  const tier = tierAndCycle?.tier ?? current?.tier;
  if (!tier) return 'unknown tier';
  const cycle = tierAndCycle?.cycle ?? current?.billingCycle ?? 'MONTHLY';
  const status = statusAfterCheckout(session.payment_status, current?.status ?? null);
  if (!status) return 'payment pending';
  const keepPeriod = current !== null && current.billingCycle === cycle && current.status !== 'CANCELLED' && current.status !== 'EXPIRED';
  const period = keepPeriod ? { start: current.periodStart, end: current.periodEnd } : firstPeriod(eventTime, cycle);
  return {
    tier,
    status,
    billingCycle: cycle,
    periodStart: period.start,
    periodEnd: period.end,
    trialEndsAt: current?.trialEndsAt ?? null,
    cancelAtPeriodEnd: false,
    cancelledAt: null,
    stripeCustomerId: session.customer ?? current?.stripeCustomerId ?? null,
    stripeSubscriptionId: session.subscription ?? current?.stripeSubscriptionId ?? null,
    paymentAttempts: status === 'ACTIVE' ? 0 : (current?.paymentAttempts ?? 0),
  };
}

/** The history entries of a change, built with the subscriptions' one builder and tier-change rule (nothing when nothing it records changed). */
export function historyOf(before: SubscriptionState | null, after: SubscriptionState): HistoryChange[] {
  if (!before) return [historyEntry('CREATED', { toTierCode: after.tier.code, toStatus: after.status })];
  const history: HistoryChange[] = [];
  if (before.tier.id !== after.tier.id) {
    history.push(historyEntry(tierChangeOf(before.tier, after.tier), { fromTierCode: before.tier.code, toTierCode: after.tier.code }));
  }
  if (before.billingCycle !== after.billingCycle) history.push(historyEntry('CYCLE_CHANGE', { reason: `${before.billingCycle} → ${after.billingCycle}` }));
  if (before.status !== after.status) {
    history.push(historyEntry(after.status === 'TRIAL' ? 'TRIAL_STARTED' : 'STATUS_CHANGE', { fromStatus: before.status, toStatus: after.status }));
  }
  // a subscription that ends has nothing pending any more: that is its status change, not a withdrawal
  if (before.cancelAtPeriodEnd !== after.cancelAtPeriodEnd && after.status !== 'CANCELLED' && after.status !== 'EXPIRED') {
    history.push(historyEntry('STATUS_CHANGE', { reason: after.cancelAtPeriodEnd ? 'cancels at the end of the period' : 'cancellation withdrawn' }));
  }
  return history;
}

/** A paid invoice ends a payment problem: past due becomes active again and the attempts start over. */
export function stateAfterInvoicePaid<S extends SubscriptionState>(current: S): S {
  return { ...current, status: current.status === 'PAST_DUE' ? 'ACTIVE' : current.status, paymentAttempts: 0 };
}

/**
 * A failed payment makes a running subscription past due and records the invoice's attempt count; null for a
 * subscription that has ended (nothing to do).
 */
export function stateAfterPaymentFailed<S extends SubscriptionState>(current: S, attemptCount: number | null | undefined): S | null {
  if (current.status === 'CANCELLED' || current.status === 'EXPIRED') return null;
  return { ...current, status: 'PAST_DUE', paymentAttempts: attemptCount ?? current.paymentAttempts + 1 };
}

/** What an invoice event says of the subscription's payment. */
export type PaymentVerdict = 'PAID' | 'FAILED';

/** The newest payment event applied to a subscription: when, what it said, and the attempts it counted. */
export interface PaymentMark {
  paymentStateAt: Date | null;
  paymentVerdict: PaymentVerdict | null;
  paymentAttempts: number;
}

/**
 * The state a subscription event describes, ordered against the newest payment event: an event older than that
 * payment gets the payment's verdict applied on top, exactly as if the two had arrived in order (a late
 * `updated(active)` after a newer failure stays past due; a late `updated(past_due)` after a newer payment is active).
 * An ended subscription stays ended: a payment verdict never reopens it.
 */
export function withNewerPayment<S extends SubscriptionState>(next: S, eventTime: Date, payment: PaymentMark | null): S {
  if (!payment?.paymentVerdict || !isOlderThanState(eventTime, payment.paymentStateAt)) return next;
  if (payment.paymentVerdict === 'PAID') return stateAfterInvoicePaid(next);
  return stateAfterPaymentFailed(next, payment.paymentAttempts) ?? next;
}

/** The Stripe subscription an invoice bills: under parent.subscription_details since basil, at the top level before. */
export function subscriptionOfInvoice(invoice: StripeInvoice): { id: string | null; metadata: Record<string, string> } {
  const details = invoice.parent?.subscription_details;
  return { id: details?.subscription ?? invoice.subscription ?? null, metadata: details?.metadata ?? {} };
}

/** A billing-history row of an invoice. */
export interface InvoiceRecord {
  stripeInvoiceId: string;
  number: string | null;
  status: string;
  amountDueCents: number;
  amountPaidCents: number;
  currency: string;
  periodStart: Date | null;
  periodEnd: Date | null;
  invoicePdfUrl: string | null;
  createdAt: Date;
}

/** The billing-history row of an invoice; the period is the one its first line bills (the invoice's own is the previous one). */
export function invoiceRecordOf(invoice: StripeInvoice, status: string): InvoiceRecord {
  const line = invoice.lines?.data[0]?.period;
  const start = line?.start ?? invoice.period_start ?? null;
  const end = line?.end ?? invoice.period_end ?? null;
  return {
    stripeInvoiceId: invoice.id,
    number: invoice.number ?? null,
    status: invoice.status ?? status,
    amountDueCents: invoice.amount_due,
    amountPaidCents: invoice.amount_paid,
    currency: invoice.currency.toUpperCase(),
    periodStart: start !== null ? fromUnix(start) : null,
    periodEnd: end !== null ? fromUnix(end) : null,
    invoicePdfUrl: invoice.invoice_pdf ?? null,
    createdAt: fromUnix(invoice.created),
  };
}

export type { Period };
