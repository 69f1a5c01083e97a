import { isActiveStatus } from '@tiergraph/plans';
import { subscriptionPeriod } from '../subscriptions/periods';
import { count, jobActor, type JobOutcome } from './job';
import type { JobsStore } from './jobs-store';
import type { JobSubscriptionWriter } from './subscription-writes';

export interface ResetPeriodDependencies {
  writer: JobSubscriptionWriter;
  jobsStore: JobsStore;
  clock: () => Date;
}

/**
 * RESET_PERIOD_COUNTERS: every live subscription whose stored period ended moves to the period that contains now
 * (whole cycles from the stored start, as reads already compute it), so per-period counters — orders this period,
 * metered usage — start from zero; in the same transaction the usage summaries of its closed periods are written.
 * A subscription that ends with its period (cancellation pending) is left to Stripe. Idempotent: once rolled, a
 * period has not ended, so a second run finds nothing.
 */
export async function resetPeriodCounters({ writer, jobsStore, clock }: ResetPeriodDependencies): Promise<JobOutcome> {
  const now = clock();
  let rolled = 0;
  let summaries = 0;
  for (const pair of await jobsStore.subscriptionsWithEndedPeriod(now)) {
    let kept = 0;
    const written = await writer.writeIfStillDue(pair, { actor: jobActor('RESET_PERIOD_COUNTERS'), changedAt: now }, async (current, manager) => {
      if (!isActiveStatus(current.status) || current.cancelAtPeriodEnd || current.currentPeriodEnd > now) return null;
      const next = subscriptionPeriod(current, now);
      kept = await jobsStore.keepClosedPeriodSummaries(manager, pair, now);
      return { subscription: { currentPeriodStart: next.start, currentPeriodEnd: next.end }, history: [] };
    });
    if (written) {
      rolled++;
      summaries += kept;
    }
  }
  return {
    affected: rolled,
    message: rolled
      ? `rolled ${count(rolled, 'subscription')} into the next period; kept ${count(summaries, 'closed-period usage summary', 'closed-period usage summaries')}`
      : 'no subscription had a period that ended',
  };
}
