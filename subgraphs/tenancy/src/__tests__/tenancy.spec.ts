import { randomUUID } from 'node:crypto';
import {
  createTestDatabase,
  errorCodes,
  postGraphQL,
  startTestSubgraphs,
  tokenFor,
  withInsertsHeld,
  platformMetricsOf,
  PLATFORM_METRICS_ACCESS,
  type GraphQLResponse,
  type TestDatabase,
  recordSqlStatements,
} from '@tiergraph/testkit';
import type { RunningSubgraph } from '@tiergraph/runtime';
import { billingSubgraph } from '@tiergraph/billing';
import { tenancySubgraph } from '../index';

let db: TestDatabase;
let tenancy: RunningSubgraph;
let billing: RunningSubgraph;
let adminToken: string;

const ops = {
  createPlatform: `mutation($input: CreatePlatformInput!) { createPlatform(input: $input) { id code name } }`,
  createMerchant: `mutation($input: CreateMerchantInput!) { createMerchant(input: $input) { id name email isActive } }`,
  createStore: `mutation($input: CreateStoreInput!) { createStore(input: $input) { id code name isActive merchant { id name } platform { id code } } }`,
  setStoreActive: `mutation($id: ID!, $isActive: Boolean!) { setStoreActive(id: $id, isActive: $isActive) { id isActive } }`,
  addStoreUser: `mutation($input: AddStoreUserInput!) { addStoreUser(input: $input) { id email role isActive store { id } } }`,
  deactivateStoreUser: `mutation($id: ID!) { deactivateStoreUser(id: $id) { id isActive } }`,
  merchantUsers: `query($merchantId: ID!) { merchant(id: $merchantId) { id users { id email role isActive store { id code } } userStats { owners teamMembers active inactive } } }`,
  store: `query($id: ID!) { store(id: $id) { id code merchant { id } } }`,
  merchant: `query($id: ID!) { merchant(id: $id) { id name stores { id } } }`,
};

async function call(query: string, variables: Record<string, unknown>, token: string | undefined = adminToken): Promise<GraphQLResponse> {
  return postGraphQL(tenancy.url, { query, variables }, { token });
}

async function ok<T = any>(query: string, variables: Record<string, unknown>, token?: string): Promise<T> {
  const response = await call(query, variables, token);
  if (response.errors?.length) throw new Error(`unexpected errors: ${JSON.stringify(response.errors)}`);
  return response.data as T;
}

async function count(table: string): Promise<number> {
  const [{ n }] = await tenancy.dataSource.query(`SELECT count(*)::int AS n FROM tenancy.${table}`);
  return n;
}

/** A platform, two merchants with a store each, an owner and a member in the first store. */
async function world() {
  const suffix = randomUUID().slice(0, 8);
  const platform = (await ok(ops.createPlatform, { input: { code: `p-${suffix}`, name: 'Platform' } })).createPlatform;
  const m1 = (await ok(ops.createMerchant, { input: { name: 'Merchant One', email: `one-${suffix}@example.com` } })).createMerchant;
  const m2 = (await ok(ops.createMerchant, { input: { name: 'Merchant Two', email: `two-${suffix}@example.com` } })).createMerchant;
  const s1 = (await ok(ops.createStore, { input: { merchantId: m1.id, platformId: platform.id, code: `s1-${suffix}`, name: 'Store 1' } })).createStore;
  const s1b = (await ok(ops.createStore, { input: { merchantId: m1.id, platformId: platform.id, code: `s1b-${suffix}`, name: 'Store 1b' } })).createStore;
  const s2 = (await ok(ops.createStore, { input: { merchantId: m2.id, platformId: platform.id, code: `s2-${suffix}`, name: 'Store 2' } })).createStore;
  await subscribe(m1.id, platform.id, { tierCode: 'enterprise' });
  await subscribe(m2.id, platform.id, { tierCode: 'enterprise' });
  const tokens = {
    admin: adminToken,
    service: await tokenFor({ role: 'service' }),
    merchant1: await tokenFor({ role: 'merchant', merchantId: m1.id }),
    merchant2: await tokenFor({ role: 'merchant', merchantId: m2.id }),
    store1: await tokenFor({ role: 'store', merchantId: m1.id, storeId: s1.id }),
  };
  return { suffix, platform, m1, m2, s1, s1b, s2, tokens };
}

beforeAll(async () => {
  db = await createTestDatabase();
  ({ tenancy, billing } = await startTestSubgraphs({ tenancy: tenancySubgraph, billing: billingSubgraph }, db.url));
  adminToken = await tokenFor({ role: 'admin' });
});

afterAll(async () => {
  await tenancy?.stop();
  await billing?.stop();
  await db?.drop();
});

const SUBSCRIBE = `mutation($m: ID!, $p: ID!, $input: UpdateMerchantSubscriptionInput!) {
  updateMerchantSubscription(merchantId: $m, platformId: $p, input: $input) { id status } }`;
const OVERRIDE = `mutation($m: ID!, $p: ID!, $o: [MerchantFeatureOverrideInput!]!) {
  setMerchantFeatureOverrides(merchantId: $m, platformId: $p, overrides: $o) { featureCode } }`;

/** A subscription through billing, as an admin would set it. */
async function subscribe(merchantId: string, platformId: string, input: Record<string, unknown>): Promise<void> {
  const response = await postGraphQL(billing.url, { query: SUBSCRIBE, variables: { m: merchantId, p: platformId, input } }, { token: adminToken });
  if (response.errors) throw new Error(JSON.stringify(response.errors));
}

describe('tenancy operations', () => {
  it('creates platforms, merchants and stores that link to each other', async () => {
    const { platform, m1, s1 } = await world();
    expect(s1.merchant).toEqual({ id: m1.id, name: 'Merchant One' });
    expect(s1.platform).toEqual({ id: platform.id, code: platform.code });
    expect(s1.isActive).toBe(true);
    const back = await ok(ops.setStoreActive, { id: s1.id, isActive: false });
    expect(back.setStoreActive).toEqual({ id: s1.id, isActive: false });
  });

  it('finds a merchant by email in any case for admins and services only; null when nobody has it', async () => {
    const { suffix, m1, tokens } = await world();
    const byEmail = `query($email: String!) { merchantByEmail(email: $email) { id } }`;
    expect((await ok(byEmail, { email: `ONE-${suffix}@Example.com` })).merchantByEmail).toEqual({ id: m1.id });
    expect((await ok(byEmail, { email: `one-${suffix}@example.com` }, tokens.service)).merchantByEmail).toEqual({ id: m1.id });
    expect((await ok(byEmail, { email: `nobody-${suffix}@example.com` })).merchantByEmail).toBeNull();
    expect(errorCodes(await call(byEmail, { email: `one-${suffix}@example.com` }, tokens.merchant1))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await call(byEmail, { email: 'not an email' }))).toEqual(['BAD_USER_INPUT']);
  });

  it('counts owners and team members apart: team members are active MEMBERs only', async () => {
    const { m1, s1, s1b } = await world();
    await ok(ops.addStoreUser, { input: { storeId: s1.id, email: 'owner@example.com', role: 'OWNER' } });
    const member = (await ok(ops.addStoreUser, { input: { storeId: s1.id, email: 'Member@Example.com', role: 'MEMBER' } })).addStoreUser;
    await ok(ops.addStoreUser, { input: { storeId: s1b.id, email: 'member2@example.com', role: 'MEMBER' } });
    await ok(ops.addStoreUser, { input: { storeId: s1b.id, email: 'gone@example.com', role: 'MEMBER' } }).then((d) =>
      ok(ops.deactivateStoreUser, { id: d.addStoreUser.id }),
    );
    expect(member.email).toBe('member@example.com');
    const data = await ok(ops.merchantUsers, { merchantId: m1.id });
    expect(data.merchant.userStats).toEqual({ owners: 1, teamMembers: 2, active: 3, inactive: 1 });
    expect(data.merchant.users.map((u: { email: string }) => u.email)).toEqual([
      'owner@example.com',
      'member@example.com',
      'member2@example.com',
      'gone@example.com',
    ]);
  });

  it('deactivates a user once and keeps it deactivated', async () => {
    const { s1 } = await world();
    const user = (await ok(ops.addStoreUser, { input: { storeId: s1.id, email: 'x@example.com', role: 'MEMBER' } })).addStoreUser;
    expect((await ok(ops.deactivateStoreUser, { id: user.id })).deactivateStoreUser).toEqual({ id: user.id, isActive: false });
    const [first] = await tenancy.dataSource.query(`SELECT deactivated_at FROM tenancy.store_users WHERE id = $1`, [user.id]);
    await ok(ops.deactivateStoreUser, { id: user.id });
    const [second] = await tenancy.dataSource.query(`SELECT deactivated_at FROM tenancy.store_users WHERE id = $1`, [user.id]);
    expect(second.deactivated_at).toEqual(first.deactivated_at);
  });
});

describe('max_team_members: enforced where users are added', () => {
  it('refuses the member past the plan (essential: 1) with the counts; owners and deactivated members do not count', async () => {
    const w = await world();
    await subscribe(w.m1.id, w.platform.id, { tierCode: 'essential' });
    await ok(ops.addStoreUser, { input: { storeId: w.s1.id, email: 'owner1@example.com', role: 'OWNER' } });
    const first = (await ok(ops.addStoreUser, { input: { storeId: w.s1.id, email: 'm1@example.com', role: 'MEMBER' } })).addStoreUser;
    const refused = await call(ops.addStoreUser, { input: { storeId: w.s1b.id, email: 'm2@example.com', role: 'MEMBER' } });
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'FEATURE_LIMIT_REACHED', featureCode: 'max_team_members', current: 1, limit: 1 });
    // an owner is never a team member
    await ok(ops.addStoreUser, { input: { storeId: w.s1b.id, email: 'owner2@example.com', role: 'OWNER' } });
    // a deactivated member frees the slot
    await ok(ops.deactivateStoreUser, { id: first.id });
    await ok(ops.addStoreUser, { input: { storeId: w.s1b.id, email: 'm2@example.com', role: 'MEMBER' } });
  });

  it('lets exactly k = 2 of 20 concurrent member adds through, past a pool of 5, when 2 slots are left', async () => {
    const w = await world();
    const override = await postGraphQL(
      billing.url,
      { query: OVERRIDE, variables: { m: w.m1.id, p: w.platform.id, o: [{ featureCode: 'max_team_members', limitValue: 3, isEnabled: true }] } },
      { token: adminToken },
    );
    expect(override.errors).toBeUndefined();
    await ok(ops.addStoreUser, { input: { storeId: w.s1.id, email: 'pre@example.com', role: 'MEMBER' } });
    // inserts wait until all 5 of tenancy's connections are inside their transaction: without the advisory lock each
    // of them has counted 1 and inserts, so fewer slots than connections makes any missing serialisation oversell
    const results = await withInsertsHeld(db.url, 'tenancy.store_users', 5, () =>
      Promise.all(
        Array.from({ length: 20 }, (_, i) => call(ops.addStoreUser, { input: { storeId: i % 2 ? w.s1.id : w.s1b.id, email: `racer${i}@example.com`, role: 'MEMBER' } })),
      ),
    );
    expect(results.filter((r) => !r.errors).length).toBe(2);
    expect(results.flatMap(errorCodes)).toEqual(Array(18).fill('FEATURE_LIMIT_REACHED'));
    for (const r of results.filter((r) => r.errors)) {
      expect(r.errors?.[0].extensions).toEqual({ code: 'FEATURE_LIMIT_REACHED', featureCode: 'max_team_members', current: 3, limit: 3 });
    }
    const [{ n }] = await tenancy.dataSource.query(
      `SELECT count(*)::int AS n FROM tenancy.store_users WHERE merchant_id = $1 AND role = 'MEMBER' AND is_active`,
      [w.m1.id],
    );
    expect(n).toBe(3);
  });

  it('needs an active subscription for members, not for owners', async () => {
    const w = await world();
    await subscribe(w.m2.id, w.platform.id, { status: 'CANCELLED' });
    const refused = await call(ops.addStoreUser, { input: { storeId: w.s2.id, email: 'x@example.com', role: 'MEMBER' } });
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'SUBSCRIPTION_INACTIVE', status: 'CANCELLED' });
    await ok(ops.addStoreUser, { input: { storeId: w.s2.id, email: 'owner@example.com', role: 'OWNER' } });
  });
});

describe('bad input: a clear error and nothing written', () => {
  it.each([
    ['createPlatform', { code: 'Bad Code', name: 'P' }, 'code'],
    ['createPlatform', { code: 'x', name: 'P' }, 'code'],
    ['createPlatform', { code: 'good-code', name: '   ' }, 'name'],
    ['createMerchant', { name: '', email: 'a@example.com' }, 'name'],
    ['createMerchant', { name: 'M', email: 'not-an-email' }, 'email'],
  ] as const)('%s with %p → BAD_USER_INPUT on %s', async (op, input, field) => {
    const table = op === 'createPlatform' ? 'platforms' : 'merchants';
    const before = await count(table);
    const response = await call(ops[op], { input });
    expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(response.data).toBeNull();
    expect(await count(table)).toBe(before);
  });

  it('refuses duplicates by constraint: platform code, merchant email (any case), store code per platform, user email per store', async () => {
    const { suffix, platform, m1, s1 } = await world();
    const dupPlatform = await call(ops.createPlatform, { input: { code: platform.code, name: 'Again' } });
    expect(dupPlatform.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'code' });
    const dupMerchant = await call(ops.createMerchant, { input: { name: 'Again', email: `ONE-${suffix}@EXAMPLE.com` } });
    expect(dupMerchant.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'email' });
    const dupStore = await call(ops.createStore, { input: { merchantId: m1.id, platformId: platform.id, code: s1.code, name: 'Again' } });
    expect(dupStore.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'code' });
    await ok(ops.addStoreUser, { input: { storeId: s1.id, email: 'dup@example.com', role: 'MEMBER' } });
    const dupUser = await call(ops.addStoreUser, { input: { storeId: s1.id, email: 'DUP@example.com', role: 'OWNER' } });
    expect(dupUser.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'email' });

    // the same store code on another platform is fine
    const other = (await ok(ops.createPlatform, { input: { code: `o-${suffix}`, name: 'Other' } })).createPlatform;
    await ok(ops.createStore, { input: { merchantId: m1.id, platformId: other.id, code: s1.code, name: 'Same code' } });
  });

  it('answers NOT_FOUND for unknown and malformed ids, writing nothing', async () => {
    const { platform, m1 } = await world();
    const stores = await count('stores');
    const users = await count('store_users');
    const cases: Array<[string, Record<string, unknown>]> = [
      [ops.createStore, { input: { merchantId: randomUUID(), platformId: platform.id, code: 'nf-1', name: 'X' } }],
      [ops.createStore, { input: { merchantId: m1.id, platformId: 'not-a-uuid', code: 'nf-2', name: 'X' } }],
      [ops.addStoreUser, { input: { storeId: randomUUID(), email: 'a@example.com', role: 'MEMBER' } }],
      [ops.setStoreActive, { id: randomUUID(), isActive: true }],
      [ops.deactivateStoreUser, { id: '42' }],
      [ops.store, { id: randomUUID() }],
      [ops.merchant, { id: 'nope' }],
    ];
    for (const [query, variables] of cases) {
      expect(errorCodes(await call(query, variables))).toEqual(['NOT_FOUND']);
    }
    expect([await count('stores'), await count('store_users')]).toEqual([stores, users]);
  });

  it('lets exactly one of ten concurrent creates with the same store code win', async () => {
    const { platform, m1 } = await world();
    const code = `race-${randomUUID().slice(0, 8)}`;
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => call(ops.createStore, { input: { merchantId: m1.id, platformId: platform.id, code, name: `Racer ${i}` } })),
    );
    expect(results.filter((r) => !r.errors).length).toBe(1);
    expect(results.flatMap(errorCodes).sort()).toEqual(Array(9).fill('BAD_USER_INPUT'));
    const [{ n }] = await tenancy.dataSource.query(`SELECT count(*)::int AS n FROM tenancy.stores WHERE code = $1`, [code]);
    expect(n).toBe(1);
  });
});

describe('authorisation: each role against each operation', () => {
  type Outcome = 'ok' | 'FORBIDDEN';
  it('allows admin everything; merchants manage only their own team; store users and services change nothing', async () => {
    const w = await world();
    const attempt = async (role: keyof typeof w.tokens, op: string): Promise<Outcome | string> => {
      const token = w.tokens[role];
      const n = randomUUID().slice(0, 6);
      const variables: Record<string, Record<string, unknown>> = {
        createPlatform: { input: { code: `ap-${n}`, name: 'P' } },
        createMerchant: { input: { name: 'M', email: `m-${n}@example.com` } },
        createStore: { input: { merchantId: w.m1.id, platformId: w.platform.id, code: `as-${n}`, name: 'S' } },
        setStoreActive: { id: w.s1.id, isActive: true },
        addStoreUser: { input: { storeId: w.s1.id, email: `u-${n}@example.com`, role: 'MEMBER' } },
        deactivateStoreUser: {},
      };
      if (op === 'deactivateStoreUser') {
        const user = (await ok(ops.addStoreUser, { input: { storeId: w.s1.id, email: `d-${n}@example.com`, role: 'MEMBER' } })).addStoreUser;
        variables.deactivateStoreUser = { id: user.id };
      }
      const response = await call(ops[op as keyof typeof ops], variables[op], token);
      return response.errors ? String(response.errors[0].extensions?.code) : 'ok';
    };
    const operations = ['createPlatform', 'createMerchant', 'createStore', 'setStoreActive', 'addStoreUser', 'deactivateStoreUser'];
    const matrix: Record<string, Array<Outcome | string>> = {};
    for (const role of ['admin', 'service', 'merchant1', 'merchant2', 'store1'] as const) {
      matrix[role] = [];
      for (const op of operations) matrix[role].push(await attempt(role, op));
    }
    expect(matrix).toEqual({
      admin: ['ok', 'ok', 'ok', 'ok', 'ok', 'ok'],
      service: ['FORBIDDEN', 'FORBIDDEN', 'FORBIDDEN', 'FORBIDDEN', 'FORBIDDEN', 'FORBIDDEN'],
      merchant1: ['FORBIDDEN', 'FORBIDDEN', 'FORBIDDEN', 'FORBIDDEN', 'ok', 'ok'],
      merchant2: ['FORBIDDEN', 'FORBIDDEN', 'FORBIDDEN', 'FORBIDDEN', 'FORBIDDEN', 'FORBIDDEN'],
      store1: ['FORBIDDEN', 'FORBIDDEN', 'FORBIDDEN', 'FORBIDDEN', 'FORBIDDEN', 'FORBIDDEN'],
    });
  });

  it('denies cross-tenant reads and shows each caller only its own stores', async () => {
    const w = await world();
    // exactly FORBIDDEN, and nothing of the other tenant in the answer
    const refused = async (query: string, variables: Record<string, unknown>, token: string) => {
      const response = await call(query, variables, token);
      return { codes: errorCodes(response), data: response.data ?? null };
    };
    expect(await refused(ops.merchant, { id: w.m2.id }, w.tokens.merchant1)).toEqual({ codes: ['FORBIDDEN'], data: { merchant: null } });
    expect(await refused(ops.store, { id: w.s2.id }, w.tokens.merchant1)).toEqual({ codes: ['FORBIDDEN'], data: { store: null } });
    expect(await refused(ops.store, { id: w.s1b.id }, w.tokens.store1)).toEqual({ codes: ['FORBIDDEN'], data: { store: null } });
    // a store user sees its merchant but neither of the merchant-wide fields: each answers its own FORBIDDEN
    const storeUserOnUsers = await call(ops.merchantUsers, { merchantId: w.m1.id }, w.tokens.store1);
    expect({ data: storeUserOnUsers.data ?? null, errors: storeUserOnUsers.errors?.map((e) => [e.extensions?.code, e.path?.join('.')]).sort() }).toEqual({
      data: { merchant: null },
      errors: [
        ['FORBIDDEN', 'merchant.userStats'],
        ['FORBIDDEN', 'merchant.users'],
      ],
    });
    expect(await refused(ops.merchantUsers, { merchantId: w.m1.id }, w.tokens.merchant2)).toEqual({ codes: ['FORBIDDEN'], data: { merchant: null } });

    const asMerchant = await ok(ops.merchant, { id: w.m1.id }, w.tokens.merchant1);
    expect(asMerchant.merchant.stores.map((s: { id: string }) => s.id)).toEqual([w.s1.id, w.s1b.id]);
    const asStoreUser = await ok(ops.merchant, { id: w.m1.id }, w.tokens.store1);
    expect(asStoreUser.merchant.stores.map((s: { id: string }) => s.id)).toEqual([w.s1.id]);
    const asService = await ok(ops.store, { id: w.s2.id }, w.tokens.service);
    expect(asService.store).toEqual({ id: w.s2.id, code: w.s2.code, merchant: { id: w.m2.id } });
  });

  it('refuses direct calls without a valid token, _entities included (HTTP 401)', async () => {
    const w = await world();
    const entities = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Store { id code } } }`;
    for (const token of [undefined, 'garbage', await tokenFor({ role: 'admin' }, -10)]) {
      const response = await postGraphQL(tenancy.url, { query: entities, variables: { r: [{ __typename: 'Store', id: w.s1.id }] } }, { token });
      expect(response.status).toBe(401);
      expect(errorCodes(response)).toEqual(['UNAUTHENTICATED']);
      expect(response.data ?? null).toBeNull();
    }
  });
});

describe('_entities', () => {
  it('resolves Store, Merchant and Platform references in order, batched, with the same tenant rules', async () => {
    const w = await world();
    const query = `query($r: [_Any!]!) { _entities(representations: $r) {
      __typename ... on Store { id code merchantId platformId } ... on Merchant { id name } ... on Platform { id code } } }`;
    const representations = [
      { __typename: 'Store', id: w.s2.id },
      { __typename: 'Merchant', id: w.m1.id },
      { __typename: 'Store', id: w.s1.id },
      { __typename: 'Platform', id: w.platform.id },
    ];
    const asAdmin = await ok(query, { r: representations });
    expect(asAdmin._entities).toEqual([
      { __typename: 'Store', id: w.s2.id, code: w.s2.code, merchantId: w.m2.id, platformId: w.platform.id },
      { __typename: 'Merchant', id: w.m1.id, name: 'Merchant One' },
      { __typename: 'Store', id: w.s1.id, code: w.s1.code, merchantId: w.m1.id, platformId: w.platform.id },
      { __typename: 'Platform', id: w.platform.id, code: w.platform.code },
    ]);

    const asMerchant1 = await call(query, { r: representations }, w.tokens.merchant1);
    expect(asMerchant1.errors?.map((e) => [e.path, e.extensions?.code])).toEqual([[['_entities', 0], 'FORBIDDEN']]);
    expect(asMerchant1.data?._entities[0]).toBeNull();
    expect(asMerchant1.data?._entities[2]).toMatchObject({ id: w.s1.id });

    const unknown = await call(query, { r: [{ __typename: 'Merchant', id: randomUUID() }] });
    expect(errorCodes(unknown)).toEqual(['NOT_FOUND']);
  });

  it('contributes stores, active stores and active team members to PlatformMetrics, for admins and services only', async () => {
    const w = await world();
    const before = await platformMetricsOf(tenancy.url, 'storeCount activeStoreCount teamMemberCount', { merchant: w.tokens.merchant1, store: w.tokens.store1 });
    expect(before.access).toEqual(PLATFORM_METRICS_ACCESS);
    // one more store, inactive; one active member; an owner (never a team member); a member who left
    const s3 = (await ok(ops.createStore, { input: { merchantId: w.m2.id, platformId: w.platform.id, code: `s3-${w.suffix}`, name: 'Store 3' } })).createStore;
    await ok(ops.setStoreActive, { id: s3.id, isActive: false });
    await ok(ops.addStoreUser, { input: { storeId: w.s1.id, email: `member-${w.suffix}@example.com`, role: 'MEMBER' } });
    await ok(ops.addStoreUser, { input: { storeId: w.s1.id, email: `owner-${w.suffix}@example.com`, role: 'OWNER' } });
    const leaver = (await ok(ops.addStoreUser, { input: { storeId: w.s2.id, email: `leaver-${w.suffix}@example.com`, role: 'MEMBER' } })).addStoreUser;
    await ok(ops.deactivateStoreUser, { id: leaver.id });
    const after = await platformMetricsOf(tenancy.url, 'storeCount activeStoreCount teamMemberCount', { merchant: w.tokens.merchant1, store: w.tokens.store1 });
    const b = before.figures as Record<string, number>;
    expect(after.figures).toEqual({ id: 'platform', storeCount: b.storeCount + 1, activeStoreCount: b.activeStoreCount, teamMemberCount: b.teamMemberCount + 1 });
    const [{ stores, active }] = await tenancy.dataSource.query(`SELECT count(*)::int AS stores, count(*) FILTER (WHERE is_active)::int AS active FROM tenancy.stores`);
    expect(after.figures).toMatchObject({ storeCount: stores, activeStoreCount: active });
  });

  it('resolves 60 distinct references of three types with one SQL statement per type', async () => {
    // 20 of each, all different, so DataLoader's de-duplication cannot stand in for batching
    const db = tenancy.dataSource;
    const tag = randomUUID().slice(0, 8);
    const platforms: Array<{ id: string }> = await db.query(
      `INSERT INTO tenancy.platforms (code, name) SELECT 'b-${tag}-' || i, 'P' FROM generate_series(1, 20) i RETURNING id`,
    );
    const merchants: Array<{ id: string }> = await db.query(
      `INSERT INTO tenancy.merchants (name, email) SELECT 'M' || i, 'b-${tag}-' || i || '@example.com' FROM generate_series(1, 20) i RETURNING id`,
    );
    const stores: Array<{ id: string }> = await db.query(
      `INSERT INTO tenancy.stores (merchant_id, platform_id, code, name)
       SELECT m.id, p.id, 'store-' || m.n, 'S' FROM
         (SELECT id, row_number() OVER () AS n FROM unnest($1::uuid[]) AS id) m JOIN
         (SELECT id, row_number() OVER () AS n FROM unnest($2::uuid[]) AS id) p USING (n) RETURNING id`,
      [merchants.map((m) => m.id), platforms.map((p) => p.id)],
    );
    expect([platforms.length, merchants.length, stores.length]).toEqual([20, 20, 20]);
    // every statement at the pg client: the loaders' prepared statements go straight to the pool
    const { statements, stop: stopRecording } = recordSqlStatements();
    try {
      const representations = Array.from({ length: 20 }, (_, i) => [
        { __typename: 'Store', id: stores[i].id },
        { __typename: 'Merchant', id: merchants[i].id },
        { __typename: 'Platform', id: platforms[i].id },
      ]).flat();
      const data = await ok(`query($r: [_Any!]!) { _entities(representations: $r) { ... on Store { id } ... on Merchant { id } ... on Platform { id } } }`, { r: representations });
      expect(data._entities).toHaveLength(60);
      expect(data._entities.map((e: { id: string }) => e.id)).toEqual(representations.map((r) => r.id));
    } finally {
      stopRecording();
    }
    expect(statements.filter((sql) => /^SELECT/i.test(sql.trim()))).toHaveLength(3);
  });
});
