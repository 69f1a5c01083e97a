import { AppError } from '@tiergraph/runtime';
import type Stripe from 'stripe';
import type { EntityManager } from 'typeorm';
import { subscriptionSchema, type StripeSubscription } from '../payments/webhooks/events';
import { historyOf, linkMetadataOf, priceOfSubscription, stateOfStripeSubscription, tierOfPrice, type SubscriptionState } from '../payments/webhooks/mapping';
import { subscriptionColumnsOf, subscriptionStateOf } from '../payments/webhooks/webhook-store';
import { historyEntry } from '../subscriptions/subscription-rules';
import { count, jobActor, type JobOutcome } from './job';
import type { JobsStore } from './jobs-store';
import type { JobSubscriptionWriter } from './subscription-writes';

export interface StripeSyncDependencies {
  writer: JobSubscriptionWriter;
  jobsStore: JobsStore;
  /** The real SDK (pointed at STRIPE_API_BASE when set); null when Stripe is not configured. */
  stripe: Stripe | null;
  clock: () => Date;
}

const time = (d: Date | null) => d?.toISOString() ?? 'none';
const sameTime = (a: Date | null, b: Date | null) => (a?.getTime() ?? null) === (b?.getTime() ?? null);

/** What differs between the stored state and Stripe's, in words ("status ACTIVE → PAST_DUE"); empty when nothing. */
export function driftOf(stored: SubscriptionState, stripe: SubscriptionState): string[] {
  const drift: string[] = [];
  if (stored.tier.id !== stripe.tier.id) drift.push(`tier ${stored.tier.code} → ${stripe.tier.code}`);
  if (stored.billingCycle !== stripe.billingCycle) drift.push(`cycle ${stored.billingCycle} → ${stripe.billingCycle}`);
  if (stored.status !== stripe.status) drift.push(`status ${stored.status} → ${stripe.status}`);
  if (!sameTime(stored.periodStart, stripe.periodStart) || !sameTime(stored.periodEnd, stripe.periodEnd)) {
    drift.push(`period ${time(stored.periodStart)}–${time(stored.periodEnd)} → ${time(stripe.periodStart)}–${time(stripe.periodEnd)}`);
  }
  if (!sameTime(stored.trialEndsAt, stripe.trialEndsAt)) drift.push(`trial end ${time(stored.trialEndsAt)} → ${time(stripe.trialEndsAt)}`);
  if (stored.cancelAtPeriodEnd !== stripe.cancelAtPeriodEnd) drift.push(`cancel at period end ${stored.cancelAtPeriodEnd} → ${stripe.cancelAtPeriodEnd}`);
  if (!sameTime(stored.cancelledAt, stripe.cancelledAt)) drift.push(`cancelled at ${time(stored.cancelledAt)} → ${time(stripe.cancelledAt)}`);
  if (stored.stripeCustomerId !== stripe.stripeCustomerId) drift.push(`customer ${stored.stripeCustomerId ?? 'none'} → ${stripe.stripeCustomerId ?? 'none'}`);
  if (stored.paymentAttempts !== stripe.paymentAttempts) drift.push(`payment attempts ${stored.paymentAttempts} → ${stripe.paymentAttempts}`);
  return drift;
}

const isMissing = (error: unknown) => (error as { code?: string }).code === 'resource_missing' || (error as { statusCode?: number }).statusCode === 404;
const isUnreachable = (error: unknown) => ['StripeConnectionError', 'StripeAPIError'].includes(String((error as { type?: string }).type));

/**
 * SYNC_STRIPE_STATUS: reads every linked Stripe subscription again through the SDK and, where the stored row
 * drifted from it (a webhook lost or never sent), stores Stripe's state the way the webhook handlers map it, with
 * history entries saying what changed (actor `job:SYNC_STRIPE_STATUS`) and the time of the read as the row's Stripe
 * state, so an older event delivered later changes nothing. A row a newer event changed since the read is left as
 * it is. Stripe is asked outside any transaction; each repair is one transaction. Idempotent: after a repair there
 * is no drift left to repair.
 */
export async function syncStripeStatus({ writer, jobsStore, stripe, clock }: StripeSyncDependencies): Promise<JobOutcome> {
  if (!stripe) return { affected: 0, message: 'Stripe is not configured (STRIPE_SECRET_KEY): nothing to sync' };
  const linked = await jobsStore.linkedToStripe();
  // the tiers and their Stripe prices, once per run (not once per subscription)
  const tiers = linked.length ? await jobsStore.tiers() : [];
  let repaired = 0;
  const skipped: string[] = [];
  for (const { stripeSubscriptionId, ...pair } of linked) {
    const readAt = clock();
    let subscription: StripeSubscription;
    try {
      const parsed = subscriptionSchema.safeParse(await stripe.subscriptions.retrieve(stripeSubscriptionId));
      if (!parsed.success) {
        skipped.push(`${stripeSubscriptionId}: unreadable`);
        continue;
      }
      subscription = parsed.data;
    } catch (error) {
      if (isUnreachable(error)) {
        throw new AppError(
          `Stripe could not be reached after ${count(repaired, 'repaired subscription')}; the others are checked on the next run`,
          'PAYMENT_PROVIDER_UNAVAILABLE',
        );
      }
      if (!isMissing(error)) throw error;
      skipped.push(`${stripeSubscriptionId}: unknown to Stripe`);
      continue;
    }
    const written = await writer.writeIfStillDue(pair, { actor: jobActor('SYNC_STRIPE_STATUS'), changedAt: null }, async (current) => {
      if (current.stripeSubscriptionId !== stripeSubscriptionId) return null;
      if (current.stripeStateAt && current.stripeStateAt > readAt) return null;
      const tier = tiers.find((t) => t.id === current.tierId);
      const before = tier ? subscriptionStateOf(current, tier) : null;
      const tierAndCycle = tierOfPrice(tiers, priceOfSubscription(subscription), linkMetadataOf(subscription.metadata));
      if (!before || !tierAndCycle) {
        skipped.push(`${stripeSubscriptionId}: unknown price`);
        return null;
      }
      const after = stateOfStripeSubscription(before, subscription, tierAndCycle, readAt);
      const drift = after ? driftOf(before, after) : [];
      if (!after || !drift.length) return null;
      const reason = `Stripe sync: ${drift.join('; ')}`;
      const visible = historyOf(before, after);
      // drift the history vocabulary has no word for (periods, trial end, customer) is still recorded
      const history = visible.length
        ? visible.map((h) => ({ ...h, reason: h.reason ? `${h.reason} (${reason})` : reason }))
        : [historyEntry('STATUS_CHANGE', { reason })];
      return {
        subscription: { ...subscriptionColumnsOf(after), stripeStateAt: readAt },
        history,
      };
    });
    if (written) repaired++;
  }
  const parts = [`checked ${count(linked.length, 'linked subscription')}`, `repaired ${repaired}`];
  if (skipped.length) parts.push(`skipped ${skipped.join(', ')}`);
  return { affected: repaired, message: parts.join('; ') };
}
