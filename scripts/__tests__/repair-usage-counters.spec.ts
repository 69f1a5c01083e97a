import { randomUUID } from 'node:crypto';
import { ALL_TAGS, TAGS_CHANNEL } from '@tiergraph/runtime';
import { createTestDatabase, type TestDatabase } from '@tiergraph/testkit';
import { Client } from 'pg';
import { repairUsageCounters } from '../repair-usage-counters';

/** `pnpm repair:usage-counters`: corrects drifted counter rows and tells the gateway's response cache it did. */
let database: TestDatabase;
let client: Client;
let listener: Client;
const notified: Array<string | undefined> = [];

beforeAll(async () => {
  database = await createTestDatabase();
  client = new Client({ connectionString: database.url });
  listener = new Client({ connectionString: database.url });
  await Promise.all([client.connect(), listener.connect()]);
  listener.on('notification', (message) => notified.push(message.payload));
  await listener.query(`LISTEN ${TAGS_CHANNEL}`);
});

afterAll(async () => {
  await Promise.all([client?.end(), listener?.end()]);
  await database?.drop();
});

it('removes a counter row no product stands behind, NOTIFYs * once on commit, and changes nothing the second time', async () => {
  await client.query(`INSERT INTO catalog.product_counts (merchant_id, platform_id, store_id, n) VALUES ($1, $2, $3, 4)`, [randomUUID(), randomUUID(), randomUUID()]);
  expect(await repairUsageCounters([client])).toMatchObject({ 'catalog.product_counts': 1 });
  expect(Object.values(await repairUsageCounters([client])).every((n) => n === 0)).toBe(true);
  await listener.query('SELECT 1'); // notifications sent before this answer have arrived
  expect(notified).toEqual([ALL_TAGS]);
});
