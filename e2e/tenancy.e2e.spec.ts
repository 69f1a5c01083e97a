import { randomUUID } from 'node:crypto';
import { createTenants, errorCodes, postGraphQL, tokenFor } from '@tiergraph/testkit';
import { signToken } from '@tiergraph/runtime';
import { startTestGateway, startTestGraph, type TestGraph, contractCaller } from './graph';

let graph: TestGraph;
let admin: string;

const { send, ok } = contractCaller(() => graph, () => admin);

beforeAll(async () => {
  graph = await startTestGraph();
  admin = await tokenFor({ role: 'admin' });
});

afterAll(async () => {
  await graph?.stop();
});

describe('the contract tenancy operations through the gateway', () => {
  it('runs CreatePlatform → CreateMerchant → CreateStore → AddStoreUser → DeactivateStoreUser → SetStoreActive → MerchantUsers', async () => {
    const n = randomUUID().slice(0, 8);
    const { createPlatform } = await ok('CreatePlatform', { input: { code: `shopify-${n}`, name: 'Shopify' } });
    expect(createPlatform).toEqual({ id: expect.any(String), code: `shopify-${n}`, name: 'Shopify' });

    const { createMerchant } = await ok('CreateMerchant', { input: { name: 'Acme', email: `acme-${n}@example.com` } });
    expect(createMerchant).toEqual({ id: expect.any(String), name: 'Acme', email: `acme-${n}@example.com`, isActive: true });

    const { createStore } = await ok('CreateStore', {
      input: { merchantId: createMerchant.id, platformId: createPlatform.id, code: 'acme-main', name: 'Acme Main' },
    });
    expect(createStore).toEqual({
      id: expect.any(String),
      code: 'acme-main',
      name: 'Acme Main',
      isActive: true,
      merchant: { id: createMerchant.id, name: 'Acme' },
      platform: { id: createPlatform.id, code: `shopify-${n}` },
    });

    await ok('UpdateMerchantSubscription', { merchantId: createMerchant.id, platformId: createPlatform.id, input: { tierCode: 'professional' } });
    const owner = (await ok('AddStoreUser', { input: { storeId: createStore.id, email: 'owner@acme.test', role: 'OWNER' } })).addStoreUser;
    expect(owner).toEqual({ id: expect.any(String), email: 'owner@acme.test', role: 'OWNER', isActive: true, store: { id: createStore.id } });
    // the merchant manages its own team
    const merchantToken = await tokenFor({ role: 'merchant', merchantId: createMerchant.id });
    const member = (await ok('AddStoreUser', { input: { storeId: createStore.id, email: 'member@acme.test', role: 'MEMBER' } }, merchantToken))
      .addStoreUser;
    const leaver = (await ok('AddStoreUser', { input: { storeId: createStore.id, email: 'leaver@acme.test', role: 'MEMBER' } })).addStoreUser;
    expect((await ok('DeactivateStoreUser', { id: leaver.id })).deactivateStoreUser).toEqual({ id: leaver.id, isActive: false });

    expect((await ok('SetStoreActive', { id: createStore.id, isActive: false })).setStoreActive).toEqual({ id: createStore.id, isActive: false });

    const { merchant } = await ok('MerchantUsers', { merchantId: createMerchant.id }, merchantToken);
    expect(merchant.userStats).toEqual({ owners: 1, teamMembers: 1, active: 2, inactive: 1 });
    expect(merchant.users).toEqual([
      { id: owner.id, email: 'owner@acme.test', role: 'OWNER', isActive: true, store: { id: createStore.id, code: 'acme-main' } },
      { id: member.id, email: 'member@acme.test', role: 'MEMBER', isActive: true, store: { id: createStore.id, code: 'acme-main' } },
      { id: leaver.id, email: 'leaver@acme.test', role: 'MEMBER', isActive: false, store: { id: createStore.id, code: 'acme-main' } },
    ]);
  });

  it('carries the contract error codes through the gateway: BAD_USER_INPUT with field, NOT_FOUND, FORBIDDEN', async () => {
    const bad = await send('CreatePlatform', { input: { code: 'NOT VALID', name: 'x' } });
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'code' });
    const missing = await send('MerchantUsers', { merchantId: randomUUID() });
    expect(errorCodes(missing)).toEqual(['NOT_FOUND']);
    // a real store user (a store token for a store tenancy does not know is refused UNAUTHENTICATED before this)
    const { tokens } = await createTenants(graph.subgraphs.tenancy.url);
    const forbidden = await send('CreateMerchant', { input: { name: 'x', email: 'x@example.com' } }, tokens.store1);
    expect(errorCodes(forbidden)).toEqual(['FORBIDDEN']);
  });
});

describe('the gateway', () => {
  it.each([
    ['no token', undefined],
    ['a malformed token', 'abc.def'],
  ])('answers 401 UNAUTHENTICATED for %s', async (_what, token) => {
    const response = await postGraphQL(graph.gateway.url, { query: '{ platforms { id } }' }, { token });
    expect(response.status).toBe(401);
    expect(errorCodes(response)).toEqual(['UNAUTHENTICATED']);
  });

  it('answers 401 for a wrongly signed and for an expired token', async () => {
    const wrong = await signToken('some-other-secret-of-enough-length', { role: 'admin' });
    const expired = await tokenFor({ role: 'admin' }, Math.floor(Date.now() / 1000) - 5);
    for (const token of [wrong, expired]) {
      const response = await postGraphQL(graph.gateway.url, { query: '{ platforms { id } }' }, { token });
      expect([response.status, errorCodes(response)]).toEqual([401, ['UNAUTHENTICATED']]);
    }
  });

  it('reports healthy only when every subgraph answers', async () => {
    const response = await fetch(`${graph.origin}/health`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { subgraphs: Record<string, string> };
    expect(Object.keys(body.subgraphs).sort()).toEqual(['billing', 'catalog', 'media', 'monitoring', 'orders', 'tenancy']);
  });

  it('exposes request counts by operation, subgraph fetch latency and errors by code on /metrics', async () => {
    await ok('CreatePlatform', { input: { code: `m-${randomUUID().slice(0, 8)}`, name: 'M' } });
    await postGraphQL(graph.gateway.url, { query: '{ platforms { id } }' });
    const text = await (await fetch(`${graph.origin}/metrics`)).text();
    expect(text).toMatch(/tiergraph_gateway_requests_total\{operation="CreatePlatform"\} [1-9]/);
    expect(text).toMatch(/tiergraph_gateway_request_duration_seconds_count\{operation="CreatePlatform"\} [1-9]/);
    expect(text).toMatch(/tiergraph_gateway_subgraph_fetch_duration_seconds_count\{subgraph="tenancy"\} [1-9]/);
    expect(text).toMatch(/tiergraph_gateway_errors_total\{code="UNAUTHENTICATED"\} [1-9]/);
  });

  it('echoes a well-formed x-request-id', async () => {
    const response = await postGraphQL(graph.gateway.url, { query: '{ platforms { id } }' }, { token: admin, headers: { 'x-request-id': 'trace-123' } });
    expect(response.headers.get('x-request-id')).toBe('trace-123');
  });

  it('prevents CSRF: a simple text/plain POST is refused before execution', async () => {
    const response = await fetch(graph.gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', authorization: `Bearer ${admin}` },
      body: JSON.stringify({ query: `mutation { createPlatform(input: { code: "csrf-x", name: "x" }) { id } }` }),
    });
    expect(response.status).toBe(400);
    const [{ n }] = await graph.subgraphs.tenancy.dataSource.query(`SELECT count(*)::int AS n FROM tenancy.platforms WHERE code = 'csrf-x'`);
    expect(n).toBe(0);
  });

  it('refuses bodies over the size limit with 413', async () => {
    const response = await postGraphQL(graph.gateway.url, { query: `{ platforms { id } } # ${'x'.repeat(1_100_000)}` }, { token: admin });
    expect(response.status).toBe(413);
  });

  it('refuses queries past the depth and alias limits', async () => {
    let deep = 'id';
    for (let i = 0; i < 8; i++) deep = `merchant { stores { ${deep} } }`;
    const tooDeep = await postGraphQL(graph.gateway.url, { query: `query Deep($id: ID!) { store(id: $id) { ${deep} } }`, variables: { id: randomUUID() } }, { token: admin });
    expect(tooDeep.status).toBe(400);
    expect(tooDeep.errors?.[0]?.message).toMatch(/depth/i);
    expect(tooDeep.data ?? null).toBeNull();

    const aliases = Array.from({ length: 20 }, (_, i) => `a${i}: platforms { id }`).join(' ');
    const tooManyAliases = await postGraphQL(graph.gateway.url, { query: `{ ${aliases} }` }, { token: admin });
    expect(tooManyAliases.errors?.[0]?.message).toMatch(/alias/i);
  });

  // Port 9 used to fail inside fetch ("bad port", a blocked port), an internal error; the node:http client reaches it and
  // is refused like any gone subgraph: SUBGRAPH_UNAVAILABLE naming the service (faults.e2e.spec.ts), no address.
  it('reports unhealthy and answers SUBGRAPH_UNAVAILABLE without internal addresses when a subgraph is down', async () => {
    const urls = Object.fromEntries(Object.entries(graph.subgraphs).map(([n, s]) => [n, s.url])) as Record<string, string>;
    const broken = await startTestGateway({ ...urls, tenancy: 'http://127.0.0.1:9/graphql' } as never);
    try {
      const health = await fetch(`http://127.0.0.1:${broken.port}/health`);
      expect(health.status).toBe(503);
      expect(((await health.json()) as { subgraphs: Record<string, string> }).subgraphs.tenancy).toMatch(/unreachable/);
      const response = await postGraphQL(broken.url, { query: '{ platforms { id } }' }, { token: admin, headers: { 'x-request-id': 'req-down-1' } });
      expect(response.errors?.[0]).toMatchObject({ extensions: { code: 'SUBGRAPH_UNAVAILABLE', serviceName: 'tenancy', reason: 'unreachable' } });
      expect(JSON.stringify(response.errors)).not.toMatch(/127\.0\.0\.1|http:/);
    } finally {
      await broken.stop();
    }
  });

  it('composes from the running subgraphs in the opt-in IntrospectAndCompose mode (with its own service token)', async () => {
    const urls = Object.fromEntries(Object.entries(graph.subgraphs).map(([n, s]) => [n, s.url])) as never;
    const live = await startTestGateway(urls, { GATEWAY_INTROSPECT_AND_COMPOSE: 'true' });
    try {
      const code = `live-${randomUUID().slice(0, 8)}`;
      await ok('CreatePlatform', { input: { code, name: 'Live' } });
      const response = await postGraphQL(live.url, { query: '{ platforms { code } }' }, { token: admin });
      expect(response.data?.platforms).toEqual(expect.arrayContaining([{ code }]));
    } finally {
      await live.stop();
    }
  });

  it('allows introspection in development and refuses it with NODE_ENV=production', async () => {
    const query = '{ __schema { queryType { name } } }';
    const dev = await postGraphQL(graph.gateway.url, { query }, { token: admin });
    expect(dev.data).toEqual({ __schema: { queryType: { name: 'Query' } } });

    const urls = Object.fromEntries(Object.entries(graph.subgraphs).map(([n, s]) => [n, s.url])) as never;
    const production = await startTestGateway(urls, { NODE_ENV: 'production' });
    try {
      const refused = await postGraphQL(production.url, { query }, { token: admin });
      expect(refused.errors?.[0]?.message).toMatch(/introspection/i);
      expect(refused.data ?? null).toBeNull();
    } finally {
      await production.stop();
    }
  });
});
