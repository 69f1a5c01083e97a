import type { BillingStore } from '../store/billing-store';
import { count, jobActor, type JobOutcome } from './job';
import type { JobsStore } from './jobs-store';
import { writeIfStillDue } from './subscription-writes';

export interface TrialExpirationDependencies {
  store: BillingStore;
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
export async function checkTrialExpirations({ store, jobsStore, clock }: TrialExpirationDependencies): Promise<JobOutcome> {
  const now = clock();
  let expired = 0;
  for (const pair of await jobsStore.trialsEndedWithoutPayment(now)) {
    const written = await writeIfStillDue(store, pair, async (current) => {
      if (current.status !== 'TRIAL' || !current.trialEndsAt || current.trialEndsAt > now || current.stripeSubscriptionId) return null;
      return {
        subscription: { status: 'EXPIRED', cancelledAt: null },
        history: [
          {
            change: 'STATUS_CHANGE',
            fromTierCode: null,
            toTierCode: null,
            fromStatus: 'TRIAL',
            toStatus: 'EXPIRED',
            reason: TRIAL_EXPIRED_REASON,
            actor: jobActor('CHECK_TRIAL_EXPIRATIONS'),
            changedAt: now,
          },
        ],
      };
    });
    if (written) expired++;
  }
  return { affected: expired, message: expired ? `expired ${count(expired, 'trial')} that ended without a payment method` : 'no trial ended without a payment method' };
}
