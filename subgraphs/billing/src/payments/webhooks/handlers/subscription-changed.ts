import { subscriptionSchema } from '../events';
import { linkMetadataOf, priceOfSubscription, stateOfStripeSubscription, tierOfPrice } from '../mapping';
import { defineHandler } from './handler';
import { locateSubscription, relinkWhenEnded, saveState, staleOutcome } from './subscription-sync';

/**
 * customer.subscription.created and customer.subscription.updated: the subscription takes the Stripe
 * subscription's state (tier from the price, status, periods, trial end, cancellation at the period's end),
 * creating or linking the merchant's subscription from the metadata when it is not linked yet.
 */
export const subscriptionChanged = defineHandler({
  object: subscriptionSchema,
  apply: async (context, subscription) => {
    const link = linkMetadataOf(subscription.metadata);
    if (link.kind === 'addon') return 'ignored: an add-on subscription (the checkout records the add-on)';
    const located = await locateSubscription(context.store, subscription.id, link, relinkWhenEnded);
    if (!located.found) return located.outcome;
    const { pair, current } = located;
    const stale = staleOutcome(context.event, current);
    if (stale) return stale;
    const tierAndCycle = tierOfPrice(await context.store.tiers(), priceOfSubscription(subscription), link);
    if (!tierAndCycle) return 'ignored: unknown price';
    const next = stateOfStripeSubscription(current, subscription, tierAndCycle, context.event.time);
    if (!next) return `ignored: Stripe status ${subscription.status} gives no billing status yet`;
    return saveState(context, pair, current, next, link.merchantName);
  },
});
