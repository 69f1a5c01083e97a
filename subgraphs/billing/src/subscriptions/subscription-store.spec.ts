import { randomUUID } from 'node:crypto';
import { createSubgraphDataSource, type LoaderSql } from '@tiergraph/runtime';
import { createTestDatabase, type TestDatabase } from '@tiergraph/testkit';
import type { DataSource } from 'typeorm';
import { MerchantSubscriptionEntity } from '../database/entities';
import { entities } from '../index';
import { SubscriptionStore, type SubscriptionFilter } from './subscription-store';

let database: TestDatabase;
const sources: Partial<Record<LoaderSql, DataSource>> = {};

// names with ties (ordered by id then), cases, and LIKE's special characters
const NAMES = ['Shop B', 'shop a', 'Shop B', '100% Organic', '100 Organic', 'Under_score', 'UnderXscore', 'Back\\slash', 'Shop B', 'Zed'];

beforeAll(async () => {
  database = await createTestDatabase();
  for (const loaderSql of ['prepared', 'typeorm'] as const) {
    const db = createSubgraphDataSource({ url: database.url, schema: 'billing', entities, migrations: [], poolSize: 2, loaderSql });
    await db.initialize();
    sources[loaderSql] = db;
  }
  const db = sources.prepared!;
  for (const [i, name] of NAMES.entries()) {
    await db.query(
      `INSERT INTO billing.merchant_subscriptions (merchant_id, platform_id, merchant_name, tier_id, status, billing_cycle, current_period_start,
         current_period_end, trial_ends_at, cancelled_at, stripe_customer_id)
       SELECT $1, $2, $3, t.id, $5, 'MONTHLY', '2026-03-01T10:00:00.123456Z', '2026-04-01T10:00:00.123456Z', $6, NULL, $7
         FROM billing.subscription_tiers t WHERE t.code = $4`,
      [
        randomUUID(),
        randomUUID(),
        name,
        i % 3 === 0 ? 'professional' : 'essential',
        i % 2 === 0 ? 'ACTIVE' : 'TRIAL',
        i % 2 === 0 ? null : '2026-03-15T00:00:00Z',
        i === 4 ? 'cus_1' : null,
      ],
    );
  }
});

afterAll(async () => {
  await Promise.all(Object.values(sources).map((db) => db.destroy()));
  await database?.drop();
});

/** Every page of `size` after the last one's end, as the service walks them. */
async function walk(store: SubscriptionStore, filter: SubscriptionFilter, size: number): Promise<MerchantSubscriptionEntity[]> {
  const seen: MerchantSubscriptionEntity[] = [];
  let after: { merchantName: string; id: string } | null = null;
  for (;;) {
    const page = await store.page(filter, size, after);
    seen.push(...page.rows);
    if (!page.hasNextPage) return seen;
    const last = page.rows.at(-1)!;
    after = { merchantName: last.merchantName, id: last.id };
  }
}

describe.each(['prepared', 'typeorm'] as const)('the admin list (loader SQL %s)', (loaderSql) => {
  const store = () => new SubscriptionStore(sources[loaderSql]!);
  const expected = async (where = 'true', values: unknown[] = []) =>
    (await sources.prepared!.query(`SELECT id FROM billing.merchant_subscriptions WHERE ${where} ORDER BY merchant_name, id`, values)).map((r: { id: string }) => r.id);

  it('pages by merchant name, then id (ties too), each row once, with the next page flagged', async () => {
    const all = await expected();
    expect(all).toHaveLength(NAMES.length);
    for (const size of [1, 2, 3, 1000]) expect((await walk(store(), {}, size)).map((r) => r.id)).toEqual(all);
    const first = await store().page({}, 3, null);
    expect(first.hasNextPage).toBe(true);
    expect((await store().page({}, NAMES.length, null)).hasNextPage).toBe(false);
  });

  it('answers the rows TypeORM would, as plain objects (every column, dates with their instant)', async () => {
    const [row] = (await store().page({}, 1, null)).rows;
    const entity = await sources.prepared!.getRepository(MerchantSubscriptionEntity).findOneByOrFail({ id: row.id });
    expect(row).toEqual({ ...entity });
    expect(Object.keys(row).sort()).toEqual(Object.keys(entity).sort());
    expect(row.currentPeriodStart).toBeInstanceOf(Date);
    expect(row.currentPeriodStart.toISOString()).toBe('2026-03-01T10:00:00.123Z');
  });

  it('filters by status, tier and a search taken literally and case-insensitively, and counts the same rows', async () => {
    const cases: Array<[SubscriptionFilter, string, unknown[]]> = [
      [{ status: 'TRIAL' }, `status = 'TRIAL'`, []],
      [{ tierCode: 'professional' }, `tier_id = (SELECT id FROM billing.subscription_tiers WHERE code = 'professional')`, []],
      [{ tierCode: 'no-such-tier' }, 'false', []],
      [{ search: 'SHOP' }, `merchant_name ILIKE '%shop%'`, []],
      [{ search: '0%' }, `merchant_name = '100% Organic'`, []],
      [{ search: 'r_s' }, `merchant_name = 'Under_score'`, []],
      [{ search: 'k\\s' }, `merchant_name = $1`, ['Back\\slash']],
      [{ status: 'ACTIVE', tierCode: 'professional', search: 'b' }, `status = 'ACTIVE' AND merchant_name ILIKE '%b%' AND tier_id = (SELECT id FROM billing.subscription_tiers WHERE code = 'professional')`, []],
    ];
    for (const [filter, where, values] of cases) {
      const ids = await expected(where, values);
      expect([filter, (await walk(store(), filter, 2)).map((r) => r.id)]).toEqual([filter, ids]);
      expect([filter, await store().count(filter)]).toEqual([filter, ids.length]);
    }
  });
});
