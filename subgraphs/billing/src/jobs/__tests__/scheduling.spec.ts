import { createTestDatabase, startTestSubgraph, type TestDatabase } from '@tiergraph/testkit';
import { Client } from 'pg';
import { createBillingSubgraph } from '../../index';
import { noStripe } from '../../payments/stripe-settings';
import { JOB_SCHEDULES } from '../job';

/** The billing subgraph with JOBS_ENABLED: pg-boss starts with it, holds the five schedules, and stops with it. */
let database: TestDatabase;
let admin: Client;

beforeAll(async () => {
  database = await createTestDatabase();
  admin = new Client({ connectionString: database.url });
  await admin.connect();
});

afterAll(async () => {
  await admin?.end();
  await database?.drop();
});

const jobConnections = async () =>
  Number(
    (await admin.query(`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'tiergraph-jobs-billing'`)).rows[0].n,
  );

it('schedules every job by the contract table in pgboss, and closes pg-boss’s connections when the subgraph stops', async () => {
  const billing = await startTestSubgraph(
    createBillingSubgraph({ stripe: noStripe, jobs: { schedule: { schedule: true, retryLimit: 3, retryDelaySeconds: 60 } } }),
    database.url,
  );
  let schedules: Array<{ name: string; cron: string; timezone: string }> = [];
  try {
    for (let i = 0; i < 300 && schedules.length < 5; i++) {
      const exists = (await admin.query(`SELECT to_regclass('pgboss.schedule') IS NOT NULL AS e`)).rows[0].e;
      if (exists) schedules = (await admin.query(`SELECT name, cron, timezone FROM pgboss.schedule ORDER BY name`)).rows;
      if (schedules.length < 5) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(schedules).toEqual(
      Object.entries(JOB_SCHEDULES)
        .map(([name, cron]) => ({ name: `billing.${name}`, cron, timezone: 'UTC' }))
        .sort((a, b) => a.name.localeCompare(b.name)),
    );
    const queues = (await admin.query(`SELECT name, retry_limit, retry_delay, retry_backoff FROM pgboss.queue WHERE name LIKE 'billing.%' ORDER BY name`)).rows;
    expect(queues.map((q) => [q.retry_limit, q.retry_delay, q.retry_backoff])).toEqual(Array(5).fill([3, 60, true]));
    expect(await jobConnections()).toBeGreaterThan(0);
  } finally {
    await billing.stop();
  }
  // a closed connection's backend leaves pg_stat_activity a moment after the close
  let left = await jobConnections();
  for (let i = 0; i < 50 && left > 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    left = await jobConnections();
  }
  expect(left).toBe(0);
});
