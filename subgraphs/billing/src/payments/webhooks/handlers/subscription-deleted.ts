import { subscriptionSchema } from '../events';
import { linkMetadataOf, priceOfSubscription, stateOfStripeSubscription, tierOfPrice } from '../mapping';
import { defineHandler } from './handler';
import { locateSubscription, relinkNever, saveState, staleOutcome } from './subscription-sync';

/**
 * customer.subscription.deleted: the subscription is CANCELLED (an add-on's Stripe subscription ending cancels the
 * add-on). A subscription not linked yet is linked as cancelled, so a late `created` cannot bring it back.
 */
export const subscriptionDeleted = defineHandler({
  object: subscriptionSchema,
  apply: async (context, subscription) => {
    const link = linkMetadataOf(subscription.metadata);
    if (link.kind === 'addon') {
      const cancelled = await context.store.cancelStoreAddOnsOfStripe(subscription.id, subscription.items.data.map((item) => item.id));
      return `add-on subscription ended: ${cancelled} add-on(s) cancelled`;
    }
    const located = await locateSubscription(context.store, subscription.id, link, relinkNever);
    if (!located.found) return located.outcome;
    const { pair, current } = located;
    const stale = staleOutcome(context.event, current);
    if (stale) return stale;
    const tierAndCycle =
      tierOfPrice(await context.store.tiers(), priceOfSubscription(subscription), link) ??
      (current ? { tier: current.tier, cycle: current.billingCycle } : null);
    if (!tierAndCycle) return 'ignored: unknown price';
    const next = stateOfStripeSubscription(current, { ...subscription, status: 'canceled' }, tierAndCycle, context.event.time);
    if (!next) return 'ignored: nothing to cancel';
    return saveState(context, pair, current, next, link.merchantName);
  },
});
