import { historyEntry } from '../subscriptions/subscription-rules';
import { count, jobActor, type JobOutcome } from './job';
import type { JobsStore } from './jobs-store';
import type { JobSubscriptionWriter } from './subscription-writes';

export interface TrialExpirationDependencies {
  writer: JobSubscriptionWriter;
  jobsStore: JobsStore;
  clock: () => Date;
}

export const TRIAL_EXPIRED_REASON = 'trial ended without a payment method';

/**
 * CHECK_TRIAL_EXPIRATIONS: a trial past its end with no Stripe subscription behind it — no payment method was ever
 * given, so nothing will charge it — becomes EXPIRED, with a STATUS_CHANGE entry in its history. A trial with a
 * Stripe subscription is Stripe's to end (it sends the subscription's new state). Idempotent: an expired
 * subscription is no longer a trial.
 */
export async function checkTrialExpirations({ writer, jobsStore, clock }: TrialExpirationDependencies): Promise<JobOutcome> {
  const now = clock();
  let expired = 0;
  for (const pair of await jobsStore.trialsEndedWithoutPayment(now)) {
    const written = await writer.writeIfStillDue(pair, { actor: jobActor('CHECK_TRIAL_EXPIRATIONS'), changedAt: now }, async (current) => {
      if (current.status !== 'TRIAL' || !current.trialEndsAt || current.trialEndsAt > now || current.stripeSubscriptionId) return null;
      return {
        subscription: { status: 'EXPIRED', cancelledAt: null },
        history: [historyEntry('STATUS_CHANGE', { fromStatus: 'TRIAL', toStatus: 'EXPIRED', reason: TRIAL_EXPIRED_REASON })],
      };
    });
    if (written) expired++;
  }
  return { affected: expired, message: expired ? `expired ${count(expired, 'trial')} that ended without a payment method` : 'no trial ended without a payment method' };
}
