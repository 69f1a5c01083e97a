import { requireAdmin, startJobRunner, type Caller, type JobRunner, type Logger } from '@tiergraph/runtime';
import type Stripe from 'stripe';
import type { DataSource } from 'typeorm';
import type { UsageStore } from '../usage/usage-store';
import { captureCapacitySnapshot } from './capture-capacity-snapshot';
import { checkTrialExpirations } from './check-trial-expirations';
import { cleanupStaleSubscriptions } from './cleanup-stale-subscriptions';
import type { CapacitySnapshotClient } from '../clients/capacity-snapshot-client';
import { JOB_NAMES, JOB_SCHEDULES, type JobName, type JobOutcome } from './job';
import { JobsStore } from './jobs-store';
import { resetPeriodCounters } from './reset-period-counters';
import { JobSubscriptionWriter } from './subscription-writes';
import { syncStripeStatus } from './sync-stripe-status';

export interface BillingJobDependencies {
  db: DataSource;
  /** The process's usage store (the jobs write closed-period summaries with it). */
  usageStore: UsageStore;
  stripe: Stripe | null;
  capacity: CapacitySnapshotClient;
  clock: () => Date;
  cleanupAfterDays: number;
}

export type BillingJobs = Record<JobName, () => Promise<JobOutcome>>;

/** Each job's body bound to its dependencies: what the schedule runs and what runJob runs. */
export function createBillingJobs(deps: BillingJobDependencies): BillingJobs {
  const writer = new JobSubscriptionWriter(deps.db);
  const jobsStore = new JobsStore(deps.db, deps.usageStore);
  const { clock } = deps;
  return {
    RESET_PERIOD_COUNTERS: () => resetPeriodCounters({ writer, jobsStore, clock }),
    CHECK_TRIAL_EXPIRATIONS: () => checkTrialExpirations({ writer, jobsStore, clock }),
    SYNC_STRIPE_STATUS: () => syncStripeStatus({ writer, jobsStore, stripe: deps.stripe, clock }),
    CLEANUP_STALE_SUBSCRIPTIONS: () => cleanupStaleSubscriptions({ jobsStore, clock, cleanupAfterDays: deps.cleanupAfterDays }),
    CAPTURE_CAPACITY_SNAPSHOT: () => captureCapacitySnapshot({ capacity: deps.capacity }),
  };
}

export interface JobRun extends JobOutcome {
  name: JobName;
  startedAt: Date;
  finishedAt: Date;
}

/** runJob: an admin runs one job's body now, the same function its schedule runs. */
export async function runJobNow(jobs: BillingJobs, caller: Caller, name: JobName, clock: () => Date, logger: Logger): Promise<JobRun> {
  requireAdmin(caller);
  const body = jobs[name];
  const startedAt = clock();
  const outcome = await body();
  const finishedAt = clock();
  logger.info({ job: name, actor: caller.userId, ...outcome }, 'job run on demand');
  return { name, startedAt, finishedAt, ...outcome };
}

export interface BillingJobSchedule {
  /** Whether this instance turns the schedules' occurrences into runs (JOBS_SCHEDULE); workers run either way. */
  schedule: boolean;
  retryLimit: number;
  retryDelaySeconds: number;
  /** How often idle workers look for runs (default 5 s). */
  pollingIntervalSeconds?: number;
}

/** Starts the five jobs on their schedules with pg-boss, in the `pgboss` schema of the subgraphs' database. */
export function scheduleBillingJobs(jobs: BillingJobs, databaseUrl: string, logger: Logger, options: BillingJobSchedule): Promise<JobRunner> {
  return startJobRunner({
    databaseUrl,
    logger,
    queuePrefix: 'billing',
    schedule: options.schedule,
    retryLimit: options.retryLimit,
    retryDelaySeconds: options.retryDelaySeconds,
    pollingIntervalSeconds: options.pollingIntervalSeconds,
    jobs: JOB_NAMES.map((name) => ({ name, cron: JOB_SCHEDULES[name], run: () => jobs[name]() })),
  });
}
