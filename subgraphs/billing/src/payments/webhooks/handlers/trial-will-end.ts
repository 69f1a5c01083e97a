import { subscriptionSchema } from '../events';
import { defineHandler } from './handler';

/** customer.subscription.trial_will_end: recorded (with the trial's end) and nothing else; the status follows with `updated`. */
export const trialWillEnd = defineHandler({
  object: subscriptionSchema,
  apply: async (context, subscription) => {
    const ends = subscription.trial_end != null ? new Date(subscription.trial_end * 1000).toISOString() : 'at an unknown time';
    const pair = await context.store.pairOfStripeSubscription(subscription.id);
    return pair
      ? `recorded: the trial of merchant ${pair.merchantId} on platform ${pair.platformId} ends ${ends}`
      : `recorded: the trial of ${subscription.id} (not linked) ends ${ends}`;
  },
});
