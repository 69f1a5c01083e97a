import { count, type JobOutcome } from './job';
import type { JobsStore } from './jobs-store';

const DAY_MS = 86_400_000;

export interface CleanupDependencies {
  jobsStore: JobsStore;
  clock: () => Date;
  /** How long a subscription is cancelled or expired before its transient data goes (JOBS_CLEANUP_AFTER_DAYS). */
  cleanupAfterDays: number;
}

/**
 * CLEANUP_STALE_SUBSCRIPTIONS: for subscriptions cancelled or expired longer than `cleanupAfterDays`, the usage
 * detail of their closed periods (events with their idempotency keys, daily totals, threshold crossings, period
 * totals) goes, after each period's summary is kept. The subscription, its history, the summaries and the invoices
 * stay. One transaction per subscription. Idempotent: a second run finds nothing left to remove.
 */
export async function cleanupStaleSubscriptions({ jobsStore, clock, cleanupAfterDays }: CleanupDependencies): Promise<JobOutcome> {
  const now = clock();
  const before = new Date(now.getTime() - cleanupAfterDays * DAY_MS);
  let cleaned = 0;
  let rows = 0;
  for (const pair of await jobsStore.endedBefore(before)) {
    const removed = await jobsStore.removeTransientUsage(pair, before, now);
    const total = removed ? removed.events + removed.dailyTotals + removed.crossings + removed.periodTotals : 0;
    if (total > 0) {
      cleaned++;
      rows += total;
    }
  }
  return {
    affected: cleaned,
    message: cleaned
      ? `removed ${count(rows, 'usage row')} of ${count(cleaned, 'subscription')} ended over ${cleanupAfterDays} days ago; history, summaries and invoices kept`
      : `no subscription ended over ${cleanupAfterDays} days ago has transient data left`,
  };
}
