import { checkoutSessionSchema, type CheckoutSession } from '../events';
import { linkMetadataOf, stateAfterCheckout, tierOfPrice, type LinkMetadata } from '../mapping';
import { defineHandler, type WebhookContext } from './handler';
import { locateSubscription, relinkWhenEnded, saveState, staleOutcome } from './subscription-sync';

/**
 * checkout.session.completed: a subscription checkout activates the merchant's subscription (creating it from the
 * metadata when there is none) and links the Stripe customer and subscription; an add-on checkout records the
 * store's add-on.
 */
export const checkoutSessionCompleted = defineHandler({
  object: checkoutSessionSchema,
  // an add-on is cancelled through its Stripe subscription item: read it while Stripe is reachable
  load: async (session, stripe) => {
    if (linkMetadataOf(session.metadata).kind !== 'addon' || !session.subscription || !stripe) return { addOnItemId: null };
    const subscription = await stripe.subscriptions.retrieve(session.subscription);
    return { addOnItemId: subscription.items.data[0]?.id ?? null };
  },
  apply: async (context, session, loaded) => {
    const link = linkMetadataOf(session.metadata);
    return link.kind === 'addon'
      ? recordAddOn(context, link, loaded?.addOnItemId ?? null, session.subscription ?? null)
      : activate(context, session, link);
  },
});

async function recordAddOn(
  context: WebhookContext,
  link: LinkMetadata,
  stripeSubscriptionItemId: string | null,
  stripeSubscriptionId: string | null,
): Promise<string> {
  if (!link.pair || !link.storeId || !link.addOnCode) return 'ignored: an add-on checkout without merchant, platform, store or add-on code';
  if (!(await context.store.addOnProductExists(link.addOnCode))) return `ignored: unknown add-on ${link.addOnCode}`;
  const existing = await context.store.storeAddOnOfStripe(stripeSubscriptionItemId, stripeSubscriptionId);
  if (existing) return `add-on already recorded as ${existing}`;
  const id = await context.store.insertStoreAddOn({
    storeId: link.storeId,
    merchantId: link.pair.merchantId,
    addOnCode: link.addOnCode,
    quantity: link.quantity,
    domainName: link.domainName,
    stripeSubscriptionItemId,
    stripeSubscriptionId,
  });
  return `add-on ${link.addOnCode} recorded as ${id}`;
}

async function activate(context: WebhookContext, session: CheckoutSession, link: LinkMetadata): Promise<string> {
  if (session.mode && session.mode !== 'subscription') return `ignored: a ${session.mode} checkout`;
  // a checkout never moves the link away from a live subscription: that one would keep billing, unseen
  const located = await locateSubscription(context.store, session.subscription ?? null, link, relinkWhenEnded);
  if (!located.found) return located.outcome;
  const { pair, current } = located;
  const stale = staleOutcome(context.event, current);
  if (stale) return stale;
  const tierAndCycle = tierOfPrice(await context.store.tiers(), null, {
    tierCode: link.tierCode,
    billingCycle: link.billingCycle ?? current?.billingCycle ?? null,
  });
  const next = stateAfterCheckout(current, session, tierAndCycle, context.event.time);
  if (next === 'unknown tier') return `ignored: unknown tier ${link.tierCode ?? '(none in the metadata)'}`;
  if (next === 'payment pending') return 'ignored: the checkout is unpaid (a delayed payment method); the subscription follows when Stripe reports the payment';
  return saveState(context, pair, current, next, link.merchantName);
}
