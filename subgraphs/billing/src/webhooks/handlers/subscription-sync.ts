import { historyOf, isOlderThanState, type HistoryChange, type LinkMetadata, type MerchantPlatform, type SubscriptionState } from '../mapping';
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
export const relinkAlways = () => true;
export const relinkNever = () => false;
export const relinkWhenEnded = (current: StoredSubscription) => current.status === 'CANCELLED' || current.status === 'EXPIRED';

/** The outcome of an event older than the subscription's Stripe state, or null when the event is current. */
export function staleOutcome(event: WebhookEvent, current: StoredSubscription | null, mark: StateMark = 'subscription'): string | null {
  const stateAt = mark === 'payment' ? (current?.paymentStateAt ?? null) : (current?.stripeStateAt ?? null);
  if (!current || !isOlderThanState(event.time, stateAt)) return null;
  return `stale: older than the stored state (${mark}) of ${stateAt?.toISOString()}, nothing changed`;
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

/**
 * Stores the state an event describes, as of the event's time, with the history entries of what changed; the
 * merchant name of a new subscription comes from the metadata, else the merchant's id (tenancy is not asked here).
 */
export async function saveState(
  context: WebhookContext,
  pair: MerchantPlatform,
  current: StoredSubscription | null,
  next: SubscriptionState,
  merchantName: string | null,
  mark: StateMark = 'subscription',
): Promise<string> {
  const history = historyOf(current, next);
  await context.store.saveSubscription(pair, current, next, {
    merchantName: current?.merchantName ?? merchantName ?? pair.merchantId,
    stateAt: context.event.time,
    mark,
    history,
    reason: reasonOf(context.event),
  });
  return describe(current, next, history);
}
