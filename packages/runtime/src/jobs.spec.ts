import { createTestDatabase, silentLogger, type TestDatabase } from '@tiergraph/testkit';
import PgBoss from 'pg-boss';
import pino from 'pino';
import { occurrenceAt, occurrenceJobId, startJobRunner, type JobDefinition, type JobRunner } from './jobs';

/** Polls until `check` answers something other than undefined (pg-boss works in the background). */
async function until<T>(check: () => Promise<T | undefined>, what: string, attempts = 200): Promise<T> {
  for (let i = 0; i < attempts; i++) {
    const value = await check();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`gave up waiting for ${what}`);
}

const finished = (runner: JobRunner, name: string, occurrence: Date) =>
  until(async () => {
    const state = await runner.runState(name, occurrence);
    return state && ['completed', 'failed'].includes(state.state) ? state : undefined;
  }, `${name} to finish`);

describe('occurrences', () => {
  it('a tick stands for the latest occurrence of its cron at or before it was created', () => {
    expect(occurrenceAt('0 3 * * *', new Date('2026-03-10T03:00:40Z')).toISOString()).toBe('2026-03-10T03:00:00.000Z');
    expect(occurrenceAt('0 3 * * *', new Date('2026-03-10T03:00:00Z')).toISOString()).toBe('2026-03-10T03:00:00.000Z');
    expect(occurrenceAt('0 * * * *', new Date('2026-03-10T14:59:59Z')).toISOString()).toBe('2026-03-10T14:00:00.000Z');
    expect(occurrenceAt('0 4 * * 1', new Date('2026-03-12T10:00:00Z')).toISOString()).toBe('2026-03-09T04:00:00.000Z');
  });

  it('one occurrence has one job id, a UUID; another occurrence another', () => {
    const a = occurrenceJobId('pgboss:billing.X@2026-03-10T03:00:00.000Z');
    expect(a).toBe(occurrenceJobId('pgboss:billing.X@2026-03-10T03:00:00.000Z'));
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(occurrenceJobId('pgboss:billing.X@2026-03-11T03:00:00.000Z')).not.toBe(a);
  });
});

describe('the job runner on PostgreSQL', () => {
  let database: TestDatabase;
  const runners: JobRunner[] = [];
  const start = async (jobs: JobDefinition[], extra: { schedule?: boolean; retryLimit?: number; logger?: pino.Logger } = {}) => {
    const runner = await startJobRunner({
      databaseUrl: database.url,
      jobs,
      logger: extra.logger ?? silentLogger,
      queuePrefix: 'test',
      schedule: extra.schedule ?? false,
      retryLimit: extra.retryLimit ?? 2,
      retryDelaySeconds: 0,
      retryBackoff: false,
      pollingIntervalSeconds: 0.5,
    });
    runners.push(runner);
    return runner;
  };

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterAll(async () => {
    for (const runner of runners) await runner.stop(5_000);
    await database?.drop();
  });

  it('two instances racing for one occurrence run it once', async () => {
    const runs: string[] = [];
    const job = (instance: string): JobDefinition => ({
      name: 'race',
      cron: '0 3 * * *',
      run: async (occurrence) => {
        runs.push(`${instance}:${occurrence.toISOString()}`);
        return { affected: 1 };
      },
    });
    const [one, two] = await Promise.all([start([job('one')]), start([job('two')])]);
    const occurrence = new Date('2026-03-10T03:00:00Z');
    const sent = await Promise.all([one.enqueue('race', occurrence), two.enqueue('race', occurrence), one.enqueue('race', occurrence)]);
    expect(sent.filter((id) => id !== null)).toHaveLength(1);
    const state = await finished(one, 'race', occurrence);
    expect(state).toMatchObject({ state: 'completed', output: { affected: 1 } });
    // once done, the same occurrence is not queued again
    expect(await two.enqueue('race', occurrence)).toBeNull();
    const next = new Date('2026-03-11T03:00:00Z');
    expect(await two.enqueue('race', next)).not.toBeNull();
    await finished(two, 'race', next);
    expect(runs.map((r) => r.split(':').slice(1).join(':')).sort()).toEqual([occurrence.toISOString(), next.toISOString()]);
  });

  it('a failing attempt is retried and logged, and the run completes on a later attempt', async () => {
    let attempts = 0;
    const lines: Array<{ level: number; msg: string; job?: string; attempt?: number; err?: { message: string } }> = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const runner = await start([
      {
        name: 'flaky',
        cron: '0 3 * * *',
        run: async () => {
          attempts++;
          if (attempts === 1) throw new Error('first attempt fails');
          return { attempts };
        },
      },
    ], { logger });
    const occurrence = new Date('2026-03-10T03:00:00Z');
    await runner.enqueue('flaky', occurrence);
    expect(await finished(runner, 'flaky', occurrence)).toMatchObject({ state: 'completed', retryCount: 1, output: { attempts: 2 } });
    expect(attempts).toBe(2);
    const ofFlaky = lines.filter((l) => l.job === 'flaky').map((l) => [l.level, l.attempt, l.msg, l.err?.message]);
    expect(ofFlaky).toEqual([
      [40, 1, 'job attempt 1 failed; pg-boss retries it', 'first attempt fails'],
      [30, 2, 'job ran', undefined],
    ]);
  });

  it('a run that keeps failing stops after its retries and is marked failed', async () => {
    let attempts = 0;
    const runner = await start(
      [
        {
          name: 'broken',
          cron: '0 3 * * *',
          run: async () => {
            attempts++;
            throw new Error('always fails');
          },
        },
      ],
      { retryLimit: 1 },
    );
    const occurrence = new Date('2026-03-10T03:00:00Z');
    await runner.enqueue('broken', occurrence);
    expect(await finished(runner, 'broken', occurrence)).toMatchObject({ state: 'failed', retryCount: 1 });
    expect(attempts).toBe(2);
  });

  it('schedules each job by its cron in UTC, and turns ticks from two instances into one run of the occurrence', async () => {
    const runs: Date[] = [];
    const cron = '0 0 * * *';
    await start([{ name: 'ticked', cron, run: async (occurrence) => void runs.push(occurrence) }], { schedule: true });
    const other = new PgBoss({ connectionString: database.url, schema: 'pgboss', schedule: false, supervise: false, max: 1 });
    await other.start();
    try {
      const schedules = await other.getSchedules();
      expect(schedules.find((s) => s.name === 'test.ticked')).toMatchObject({ cron, options: { tz: 'UTC' } });
      // what pg-boss's clock sends at the occurrence, here twice (as if from two instances)
      await Promise.all([other.send('test.ticked', {}), other.send('test.ticked', {})]);
      const expected = occurrenceAt(cron, new Date());
      await until(async () => (runs.length ? true : undefined), 'the ticked run');
      await until(async () => ((await other.getQueueSize('test.ticked', { before: 'completed' })) === 0 ? true : undefined), 'the ticks to be done');
      expect(runs.map((r) => r.toISOString())).toEqual([expected.toISOString()]);
    } finally {
      await other.stop({ graceful: false, wait: true });
    }
  });

  it('stop waits for the attempt that is running, which completes', async () => {
    let release!: () => void;
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    const runner = await start([
      {
        name: 'slow',
        cron: '0 3 * * *',
        run: async () => {
          started();
          await new Promise<void>((resolve) => (release = resolve));
          return { done: true };
        },
      },
    ]);
    const occurrence = new Date('2026-03-10T03:00:00Z');
    await runner.enqueue('slow', occurrence);
    await running;
    const stopped = runner.stop(10_000);
    release();
    await stopped;
    const observer = await start([{ name: 'slow', cron: '0 3 * * *', run: async () => ({ done: false }) }]);
    expect(await observer.runState('slow', occurrence)).toMatchObject({ state: 'completed', output: { done: true } });
  });
});
