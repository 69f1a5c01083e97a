import type { JobName } from '../__generated__/resolvers-types';

export type { JobName };

/** What one run of a job did: how many rows (subscriptions, snapshots) it changed, in a sentence. */
export interface JobOutcome {
  affected: number;
  message: string;
}

/** Every job, with its schedule (cron, UTC) as the contract's table has it: daily, hourly or weekly. */
export const JOB_SCHEDULES: Record<JobName, string> = {
  RESET_PERIOD_COUNTERS: '5 0 * * *',
  CHECK_TRIAL_EXPIRATIONS: '10 0 * * *',
  SYNC_STRIPE_STATUS: '15 * * * *',
  CLEANUP_STALE_SUBSCRIPTIONS: '30 3 * * 0',
  CAPTURE_CAPACITY_SNAPSHOT: '45 0 * * *',
};

export const JOB_NAMES = Object.keys(JOB_SCHEDULES) as JobName[];

/** The actor a job's history entries name. */
export const jobActor = (name: JobName) => `job:${name}`;

/** `n thing` / `n things`. */
export const count = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
