import {
  historyOf,
  isOlderThanState,
  withNewerPayment,
  type HistoryChange,
  type LinkMetadata,
  type MerchantPlatform,
  type PaymentVerdict,
  type SubscriptionState,
} from '../mapping';
import type { StateMark, StoredSubscription, WebhookStore } from '../webhook-store';
import { reasonOf, type WebhookContext, type WebhookEvent } from './handler';

export type Located = { found: true; pair: MerchantPlatform; current: StoredSubscription | null } | { found: false; outcome: string };

/**
 * The merchant subscription a Stripe subscription's event is about, locked: the one linked to that Stripe
 * subscription, else the one of the merchant and platform in the metadata. A subscription linked to another Stripe
 * subscription is only taken over when `relink` allows it (a new purchase, or the linked one has ended).
 */
export async function locateSubscription(
  store: WebhookStore,
  stripeSubscriptionId: string | null,
  link: LinkMetadata,
  relink: (current: StoredSubscription) => boolean,
): Promise<Located> {
  const linked = stripeSubscriptionId ? await store.pairOfStripeSubscription(stripeSubscriptionId) : null;
  const pair = linked ?? link.pair;
  if (!pair) return { found: false, outcome: 'ignored: unknown subscription (not linked, no merchant in the metadata)' };
  const current = await store.lockSubscription(pair);
  if (current?.stripeSubscriptionId && stripeSubscriptionId && current.stripeSubscriptionId !== stripeSubscriptionId && !relink(current)) {
    return { found: false, outcome: `ignored: the merchant's subscription is linked to ${current.stripeSubscriptionId}` };
  }
  return { found: true, pair, current };
}

/** Relinking rules. */
export const relinkNever = () => false;
export const relinkWhenEnded = (current: StoredSubscription) => current.status === 'CANCELLED' || current.status === 'EXPIRED';

const latest = (a: Date | null, b: Date | null): Date | null => (a && b ? (a > b ? a : b) : (a ?? b));

/**
 * The outcome of an event that may not change the subscription's status any more, or null when it may.
 * A subscription event is stale when a newer subscription event was applied (it carries Stripe's whole view, so
 * the newer one wins). A payment event is stale when any newer event set the status: a newer payment event, or a
 * newer subscription event (whose status already reflects every payment before it). An older subscription event
 * than the newest payment is not stale: it applies, with that payment's verdict on top (see `saveState`).
 */
export function staleOutcome(event: WebhookEvent, current: StoredSubscription | null, mark: StateMark = 'subscription'): string | null {
  if (!current) return null;
  const stateAt = mark === 'payment' ? latest(current.paymentStateAt, current.stripeStateAt) : current.stripeStateAt;
  if (!isOlderThanState(event.time, stateAt)) return null;
  return `stale: older than the stored state (${mark === 'payment' ? 'status' : 'subscription'}) of ${stateAt?.toISOString()}, nothing changed`;
}

/** How an applied change reads in the event's outcome. */
function describe(current: StoredSubscription | null, next: SubscriptionState, history: HistoryChange[]): string {
  if (!current) return `created: ${next.tier.code} ${next.billingCycle} ${next.status}`;
  if (!history.length) return 'applied: no visible change';
  const parts = history.map((h) =>
    h.fromStatus || h.toStatus
      ? `${h.change} ${h.fromStatus} → ${h.toStatus}`
      : h.fromTierCode || h.toTierCode
        ? `${h.change} ${h.fromTierCode} → ${h.toTierCode}`
        : `${h.change} (${h.reason})`,
  );
  return `applied: ${parts.join(', ')}`;
}

/** Which kind of event a state comes from: a subscription event, or a payment event with its verdict. */
export type StateSource = { mark: 'subscription' } | { mark: 'payment'; verdict: PaymentVerdict };
const fromSubscriptionEvent: StateSource = { mark: 'subscription' };

/**
 * Stores the state an event describes, as of the event's time, with the history entries of what changed; the
 * merchant name of a new subscription comes from the metadata, else the merchant's id (tenancy is not asked here).
 * A subscription event older than the newest payment event keeps that payment's verdict (`withNewerPayment`).
 */
export async function saveState(
  context: WebhookContext,
  pair: MerchantPlatform,
  current: StoredSubscription | null,
  described: SubscriptionState,
  merchantName: string | null,
  source: StateSource = fromSubscriptionEvent,
): Promise<string> {
  const next = source.mark === 'subscription' ? withNewerPayment(described, context.event.time, current) : described;
  const history = historyOf(current, next);
  await context.store.saveSubscription(pair, current, next, {
    merchantName: current?.merchantName ?? merchantName ?? pair.merchantId,
    stateAt: context.event.time,
    mark: source.mark,
    verdict: source.mark === 'payment' ? source.verdict : null,
    history,
    reason: reasonOf(context.event),
  });
  return describe(current, next, history);
}
