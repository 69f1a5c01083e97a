import { createHash } from 'node:crypto';
import cronParser from 'cron-parser';
import { Client } from 'pg';
import PgBoss from 'pg-boss';
import type { Logger } from './logger';

/**
 * Background jobs on the subgraphs' own PostgreSQL with pg-boss (its tables in their own schema, `pgboss` by
 * default): a cron schedule per job, one run per occurrence however many instances run, retries with logging,
 * and a graceful stop with the subgraph.
 *
 * How an occurrence runs once: pg-boss's clock lets one instance per minute turn due schedules into jobs, and its
 * send-it queue drops a second send of the same schedule within that minute (singleton key = the schedule's
 * name). That job is only a tick: its worker names the occurrence it stands for (the cron's latest time at or
 * before the tick was created) and sends the real run with the occurrence as its singleton key and a job id
 * derived from it, so a second send for the same occurrence — another instance, a late tick, `enqueue` twice —
 * hits the job's primary key and is dropped (pg-boss answers null) while the first is queued, running, retrying
 * or done (completed jobs stay in the job table until pg-boss archives them, 12 hours by default; ticks only
 * come within a minute or so of their occurrence). A fetched job is locked (SKIP LOCKED), so one worker runs it.
 * Job bodies are idempotent besides, so even a run repeated by an operator changes nothing the first one did.
 */

export interface JobDefinition {
  /** Unique within the runner; also the pg-boss queue name (after the runner's prefix). */
  name: string;
  /** Five-field cron expression, in UTC. */
  cron: string;
  /** The job body for one occurrence (the scheduled time it stands for). Throwing fails the attempt (retried). */
  run: (occurrence: Date) => Promise<unknown>;
}

export interface JobRunnerOptions {
  /** postgres:// URL of the database pg-boss shares with the subgraphs. */
  databaseUrl: string;
  jobs: JobDefinition[];
  logger: Logger;
  /** The PostgreSQL schema of pg-boss's tables (default `pgboss`). */
  schema?: string;
  /** Prefix of the queue names, e.g. the subgraph's name (`billing.RESET_PERIOD_COUNTERS`). */
  queuePrefix?: string;
  /** Attempts after the first failed one (default 3), the delay before the first retry (default 60 s), doubling. */
  retryLimit?: number;
  retryDelaySeconds?: number;
  retryBackoff?: boolean;
  /** Whether this instance schedules (turns cron occurrences into runs); default true. Workers always run. */
  schedule?: boolean;
  /** How often idle workers look for work (default 5 s; pg-boss's minimum is 0.5 s). */
  pollingIntervalSeconds?: number;
  /** How long one attempt may run before pg-boss fails it (default 15 minutes). */
  expireInSeconds?: number;
  /** Connections of pg-boss's own pool (default 3). */
  poolSize?: number;
}

export interface JobRunner {
  /** Queues the run of one occurrence now; null when that occurrence is already queued, running or done. */
  enqueue(name: string, occurrence: Date): Promise<string | null>;
  /** State of a run (created, retry, active, completed, failed, …) and its attempts; null when unknown. */
  runState(name: string, occurrence: Date): Promise<{ state: string; retryCount: number; output: unknown } | null>;
  /** Stops fetching, waits for running attempts (up to `timeoutMs`, default 30 s), then closes pg-boss's pool. */
  stop(timeoutMs?: number): Promise<void>;
}

interface RunData {
  /** ISO time of the occurrence; absent on a schedule's tick. */
  occurrence?: string;
}

/** The occurrence of `cron` a tick created at `createdOn` stands for: the latest at or before it. */
export function occurrenceAt(cron: string, createdOn: Date): Date {
  return cronParser.parseExpression(cron, { currentDate: new Date(createdOn.getTime() + 1000), tz: 'UTC' }).prev().toDate();
}

/** A UUID that is the same for the same key (name-based, SHA-256), so one occurrence has one pg-boss job id. */
export function occurrenceJobId(key: string): string {
  const hex = createHash('sha256').update(key).digest('hex').slice(0, 32).split('');
  hex[12] = '5';
  hex[16] = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  const h = hex.join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** Runs `fn` while holding a session advisory lock on a connection of its own. */
async function serialised<T>(databaseUrl: string, key: string, fn: () => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: databaseUrl, application_name: 'tiergraph-jobs-setup' });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [key]);
    return await fn();
  } finally {
    await client.query('SELECT pg_advisory_unlock(hashtext($1))', [key]).catch(() => undefined);
    await client.end().catch(() => undefined);
  }
}

/** Starts pg-boss (creating or migrating its schema), the queues and schedules of `jobs`, and one worker per job. */
export async function startJobRunner(options: JobRunnerOptions): Promise<JobRunner> {
  const { logger } = options;
  const schema = options.schema ?? 'pgboss';
  const queueOf = (name: string) => (options.queuePrefix ? `${options.queuePrefix}.${name}` : name);
  const keyOf = (name: string, occurrence: Date) => `${schema}:${queueOf(name)}@${occurrence.toISOString()}`;
  const definitions = new Map(options.jobs.map((job) => [job.name, job]));
  for (const job of options.jobs) cronParser.parseExpression(job.cron, { tz: 'UTC' }); // a bad cron fails the start

  const boss = new PgBoss({
    connectionString: options.databaseUrl,
    schema,
    application_name: `tiergraph-jobs-${options.queuePrefix ?? schema}`,
    max: options.poolSize ?? 3,
    schedule: options.schedule ?? true,
    supervise: true,
  });
  boss.on('error', (error) => logger.error({ err: error }, `job runner: ${error.message}`));
  await boss.start();

  const enqueue = async (name: string, occurrence: Date): Promise<string | null> => {
    if (!definitions.has(name)) throw new Error(`no job named ${name}`);
    const key = keyOf(name, occurrence);
    return boss.send(queueOf(name), { occurrence: occurrence.toISOString() } satisfies RunData, { id: occurrenceJobId(key), singletonKey: key });
  };

  try {
    // pg-boss creates a partition table per queue; two instances creating the same queues at once deadlock, so
    // instances take turns (a session advisory lock on a connection of their own)
    await serialised(options.databaseUrl, `tiergraph:jobs:${schema}:queues`, async () => {
      for (const job of options.jobs) {
        const queue = queueOf(job.name);
        const settings = {
          name: queue,
          retryLimit: options.retryLimit ?? 3,
          retryDelay: options.retryDelaySeconds ?? 60,
          retryBackoff: options.retryBackoff ?? true,
          expireInSeconds: options.expireInSeconds ?? 15 * 60,
        };
        if (await boss.getQueue(queue)) await boss.updateQueue(queue, settings);
        else await boss.createQueue(queue, settings);
        if (options.schedule ?? true) await boss.schedule(queue, job.cron, {}, { tz: 'UTC' });
      }
    });
    for (const job of options.jobs) {
      const queue = queueOf(job.name);
      await boss.work<RunData>(queue, { includeMetadata: true, batchSize: 1, pollingIntervalSeconds: options.pollingIntervalSeconds ?? 5 }, async ([run]) => {
        if (!run.data?.occurrence) {
          const occurrence = occurrenceAt(job.cron, run.createdOn);
          const id = await enqueue(job.name, occurrence);
          logger.info({ job: job.name, occurrence }, id ? 'job occurrence queued' : 'job occurrence already queued (another instance or tick)');
          return { occurrence: occurrence.toISOString(), queued: id !== null };
        }
        const occurrence = new Date(run.data.occurrence);
        const attempt = run.retryCount + 1;
        try {
          const outcome = await job.run(occurrence);
          logger.info({ job: job.name, occurrence, attempt, outcome }, 'job ran');
          return outcome ?? null;
        } catch (error) {
          const last = run.retryCount >= run.retryLimit;
          logger[last ? 'error' : 'warn'](
            { err: error, job: job.name, occurrence, attempt, retryLimit: run.retryLimit },
            last ? `job failed for good after ${attempt} attempts` : `job attempt ${attempt} failed; pg-boss retries it`,
          );
          throw error;
        }
      });
    }
  } catch (error) {
    await boss.stop({ graceful: false, wait: true }).catch(() => undefined);
    throw error;
  }

  return {
    enqueue,
    runState: async (name, occurrence) => {
      const job = await boss.getJobById(queueOf(name), occurrenceJobId(keyOf(name, occurrence)), { includeArchive: true });
      return job ? { state: job.state, retryCount: job.retryCount, output: job.output } : null;
    },
    stop: (timeoutMs = 30_000) => boss.stop({ graceful: true, wait: true, timeout: timeoutMs }),
  };
}
