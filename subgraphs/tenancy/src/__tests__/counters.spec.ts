import { billingSubgraph } from '@tiergraph/billing';
import { repairUsageCounter, usageCounterDrift, type RunningSubgraph } from '@tiergraph/runtime';
import { createTestDatabase, createWorld, expectData, overrideLimit, postGraphQL, startTestSubgraphs, withInsertsHeld, type GraphQLResponse, type TestDatabase, type World } from '@tiergraph/testkit';
import { TEAM_MEMBER_COUNTS, tenancySubgraph } from '../index';

/** Issue 12: max_team_members read from tenancy.team_member_counts, kept in the writing transaction; counter = count(*). */
const ops = {
  addStoreUser: `mutation($input: AddStoreUserInput!) { addStoreUser(input: $input) { id } }`,
  deactivateStoreUser: `mutation($id: ID!) { deactivateStoreUser(id: $id) { id isActive } }`,
  usage: `query($r: [_Any!]!) { _entities(representations: $r) { ... on MerchantSubscription { tenancyUsage { code current } } } }`,
};

let db: TestDatabase;
let running: Record<'billing' | 'tenancy', RunningSubgraph>;

beforeAll(async () => {
  db = await createTestDatabase();
  running = await startTestSubgraphs({ billing: billingSubgraph, tenancy: tenancySubgraph }, db.url);
});

afterAll(async () => {
  await Promise.all(Object.values(running ?? {}).map((s) => s.stop()));
  await db?.drop();
});

const urls = () => ({ tenancy: running.tenancy.url, billing: running.billing.url });
const tenancy = (query: string, variables: Record<string, unknown>, token: string): Promise<GraphQLResponse> =>
  postGraphQL(running.tenancy.url, { query, variables }, { token });

let n = 0;
const addUser = (w: World, storeId: string, role = 'MEMBER', email = `u${++n}@example.com`) =>
  tenancy(ops.addStoreUser, { input: { storeId, email, role } }, w.tokens.admin);

async function counted(merchantId: string): Promise<{ counter: number; rows: number }> {
  const [row] = await running.tenancy.dataSource.query(
    `SELECT (SELECT coalesce(sum(n), 0)::int FROM tenancy.team_member_counts WHERE merchant_id = $1) AS counter,
            (SELECT count(*)::int FROM tenancy.store_users WHERE merchant_id = $1 AND is_active AND role = 'MEMBER') AS rows`,
    [merchantId],
  );
  return row;
}

describe('tenancy.team_member_counts', () => {
  it('equals count(*) after 30 adds (members and owners) and 8 deactivations race, and usage reads it', async () => {
    const w = await createWorld(urls());
    await overrideLimit(urls().billing, w.m1, w.platformId, 'max_team_members', 1000);
    const existing: string[] = [];
    for (let i = 0; i < 8; i++) existing.push((await expectData(addUser(w, i % 2 ? w.s1 : w.s1b))).addStoreUser.id);
    const results = await withInsertsHeld(db.url, 'tenancy.store_users', 5, () =>
      Promise.all([
        ...Array.from({ length: 30 }, (_, i) => addUser(w, i % 2 ? w.s1 : w.s1b, i % 5 ? 'MEMBER' : 'OWNER')),
        ...existing.map((id) => tenancy(ops.deactivateStoreUser, { id }, w.tokens.admin)),
      ]),
    );
    expect(results.filter((r) => r.errors)).toEqual([]);
    expect(await counted(w.m1)).toEqual({ counter: 24, rows: 24 });
    expect(await usageCounterDrift(running.tenancy.dataSource, TEAM_MEMBER_COUNTS)).toEqual([]);
    const usage = await expectData(tenancy(ops.usage, { r: [{ __typename: 'MerchantSubscription', merchantId: w.m1, platformId: w.platformId }] }, w.tokens.admin));
    expect(usage._entities[0].tenancyUsage).toEqual([{ code: 'max_team_members', current: 24 }]);
  });

  it('keeps the limit under a race with the counter: 1 of 4 used, 20 racing adds → 3 added', async () => {
    const w = await createWorld(urls());
    await overrideLimit(urls().billing, w.m1, w.platformId, 'max_team_members', 4);
    await expectData(addUser(w, w.s1));
    const results = await withInsertsHeld(db.url, 'tenancy.store_users', 5, () => Promise.all(Array.from({ length: 20 }, (_, i) => addUser(w, i % 2 ? w.s1 : w.s1b))));
    expect(results.filter((r) => !r.errors)).toHaveLength(3);
    expect(results.filter((r) => r.errors).map((r) => r.errors?.[0].extensions?.code)).toEqual(Array(17).fill('FEATURE_LIMIT_REACHED'));
    expect(await counted(w.m1)).toEqual({ counter: 4, rows: 4 });
  });

  it('is unchanged by a failed add (duplicate email, rolled back) and counts a deactivation once', async () => {
    const w = await createWorld(urls());
    await overrideLimit(urls().billing, w.m1, w.platformId, 'max_team_members', 10);
    const first = (await expectData(addUser(w, w.s1, 'MEMBER', 'same@example.com'))).addStoreUser.id;
    const duplicate = await addUser(w, w.s1, 'MEMBER', 'same@example.com');
    expect(duplicate.errors).toHaveLength(1);
    expect(await counted(w.m1)).toEqual({ counter: 1, rows: 1 });
    await expectData(tenancy(ops.deactivateStoreUser, { id: first }, w.tokens.admin));
    await expectData(tenancy(ops.deactivateStoreUser, { id: first }, w.tokens.admin));
    expect(await counted(w.m1)).toEqual({ counter: 0, rows: 0 });
  });

  it('is rebuilt from the rows by repairUsageCounter, idempotently', async () => {
    const w = await createWorld(urls());
    await overrideLimit(urls().billing, w.m1, w.platformId, 'max_team_members', 10);
    for (let i = 0; i < 3; i++) await expectData(addUser(w, w.s1));
    const ds = running.tenancy.dataSource;
    await ds.query(`UPDATE tenancy.team_member_counts SET n = 42 WHERE merchant_id = $1`, [w.m1]);
    await ds.query(`INSERT INTO tenancy.team_member_counts (merchant_id, platform_id, n) VALUES (gen_random_uuid(), $1, 5)`, [w.platformId]);
    expect((await usageCounterDrift(ds, TEAM_MEMBER_COUNTS)).length).toBe(2);
    expect(await repairUsageCounter(ds, TEAM_MEMBER_COUNTS)).toBe(2);
    expect(await usageCounterDrift(ds, TEAM_MEMBER_COUNTS)).toEqual([]);
    expect(await repairUsageCounter(ds, TEAM_MEMBER_COUNTS)).toBe(0);
    expect(await counted(w.m1)).toEqual({ counter: 3, rows: 3 });
  });
});
