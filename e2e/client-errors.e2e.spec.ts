import { postGraphQL, tokenFor } from '@tiergraph/testkit';
import { startTestGraph, type TestGraph } from './graph';

/** What a client sent wrong is answered 400 with its code, never a 500 or INTERNAL_SERVER_ERROR (issue 11). */
let graph: TestGraph;
let admin: string;

beforeAll(async () => {
  graph = await startTestGraph();
  admin = await tokenFor({ role: 'admin' });
});

afterAll(async () => {
  await graph?.stop();
});

async function post(body: unknown, url = graph.gateway.url): Promise<{ status: number; codes: string[]; messages: string[] }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
    body: JSON.stringify(body),
  });
  const json = (await response.json()) as { errors?: Array<{ message: string; extensions?: { code?: string } }> };
  return {
    status: response.status,
    codes: (json.errors ?? []).map((e) => String(e.extensions?.code)),
    messages: (json.errors ?? []).map((e) => e.message),
  };
}

describe('client mistakes keep their codes', () => {
  it.each([
    ['an unknown operationName', { query: 'query A { platforms { code } }', operationName: 'B' }, 'OPERATION_RESOLUTION_FAILURE'],
    ['several operations without an operationName', { query: 'query A { platforms { code } } query B { platforms { id } }' }, 'OPERATION_RESOLUTION_FAILURE'],
    ['several unnamed operations', { query: '{ platforms { code } } { platforms { id } }' }, 'GRAPHQL_VALIDATION_FAILED'],
    [
      'a query over the token limit',
      { query: `{ ${Array.from({ length: 2100 }, () => 'platforms { code }').join(' ')} }` },
      'GRAPHQL_PARSE_FAILED',
    ],
    ['a query past the depth limit', { query: `{ platforms { ${'a { '.repeat(14)}b${' }'.repeat(14)} } }` }, 'GRAPHQL_VALIDATION_FAILED'],
    [
      'a persisted query whose hash does not match',
      { query: '{ platforms { code } }', extensions: { persistedQuery: { version: 1, sha256Hash: '0'.repeat(64) } } },
      'BAD_REQUEST',
    ],
    ['a query that does not parse', { query: '{ platforms { code ' }, 'GRAPHQL_PARSE_FAILED'],
    ['a variable of the wrong type', { query: 'query($id: ID!) { store(id: $id) { id } }', variables: { id: { not: 'an id' } } }, 'BAD_USER_INPUT'],
  ])('%s: 400 with its code', async (_case, body, code) => {
    const answer = await post(body);
    expect(answer.status).toBe(400);
    expect(answer.codes.length).toBeGreaterThan(0);
    expect(new Set(answer.codes)).toEqual(new Set([code]));
  });
});

describe('a subgraph called directly applies the gateway’s limits', () => {
  // [the case, the code, the query]
  it.each([
    ['100 aliases', 'GRAPHQL_VALIDATION_FAILED', `{ ${Array.from({ length: 100 }, (_, i) => `a${i}: platforms { code }`).join(' ')} }`],
    ['a query past the depth limit', 'GRAPHQL_VALIDATION_FAILED', `{ platforms { ${'a { '.repeat(14)}b${' }'.repeat(14)} } }`],
    ['a query over the token limit', 'GRAPHQL_PARSE_FAILED', `{ ${Array.from({ length: 2100 }, () => 'platforms { code }').join(' ')} }`],
  ])('tenancy refuses %s: 400 with %s', async (_case, code, query) => {
    const answer = await post({ query }, graph.subgraphs.tenancy.url);
    expect(answer.status).toBe(400);
    expect(new Set(answer.codes)).toEqual(new Set([code]));
  });

  it('within the limits it answers as before', async () => {
    const answer = await post({ query: `{ ${Array.from({ length: 10 }, (_, i) => `a${i}: platforms { code }`).join(' ')} }` }, graph.subgraphs.tenancy.url);
    expect(answer).toMatchObject({ status: 200, codes: [] });
  });
});

describe('text is text, ids are ids', () => {
  const platformsNamed = async (name: string) =>
    (await postGraphQL(graph.gateway.url, { query: '{ platforms { name } }' }, { token: admin })).data!.platforms.filter((p: { name: string }) => p.name === name);

  it.each([
    ['a NUL in a variable', { query: 'mutation($input: CreatePlatformInput!) { createPlatform(input: $input) { id } }', variables: { input: { code: 'nul-var', name: 'a\u0000b' } } }, 'input.name'],
    ['a NUL in a literal', { query: 'mutation { createPlatform(input: { code: "nul-lit", name: "a\\u0000b" }) { id } }' }, 'input.name'],
    ['an escape character in a code', { query: 'mutation($input: CreatePlatformInput!) { createPlatform(input: $input) { id } }', variables: { input: { code: 'esc\u001b', name: 'E' } } }, 'input.code'],
  ])('%s: BAD_USER_INPUT naming the field, nothing written', async (_case, body, field) => {
    const response = await postGraphQL(graph.gateway.url, body as { query: string }, { token: admin });
    expect(response.errors?.map((e) => [e.extensions?.code, e.extensions?.field])).toEqual([['BAD_USER_INPUT', field]]);
    expect(await platformsNamed('a\u0000b')).toEqual([]);
  });

  it('a 90 KB id is refused as input, not echoed back in a NOT_FOUND', async () => {
    const id = 'x'.repeat(90_000);
    const response = await postGraphQL(graph.gateway.url, { query: 'query($id: ID!) { store(id: $id) { id } }', variables: { id } }, { token: admin });
    expect(response.errors?.map((e) => [e.extensions?.code, e.extensions?.field])).toEqual([['BAD_USER_INPUT', 'id']]);
    expect(JSON.stringify(response).length).toBeLessThan(2000);
  });

  it('a variable of the wrong shape is BAD_USER_INPUT naming the variable', async () => {
    const response = await postGraphQL(
      graph.gateway.url,
      { query: 'mutation($input: CreatePlatformInput!) { createPlatform(input: $input) { id } }', variables: { input: { code: 5 } } },
      { token: admin },
    );
    expect(response.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input' });
  });

  it('a DateTime that does not parse, refused by the subgraph, stays BAD_USER_INPUT through the gateway (no URL, not masked)', async () => {
    const response = await postGraphQL(
      graph.gateway.url,
      {
        query: 'mutation($input: RecordUsageInput!) { recordUsage(input: $input) { accepted } }',
        variables: { input: { storeId: '00000000-0000-4000-8000-000000000000', featureCode: 'ai_tokens_per_month', quantity: 1, idempotencyKey: 'k', occurredAt: 'yesterday' } },
      },
      { token: admin },
    );
    expect(response.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    expect(response.errors?.[0].extensions).toMatchObject({ field: 'input', serviceName: 'billing' });
    expect(JSON.stringify(response)).not.toMatch(/127\.0\.0\.1|http:/);
  });
});
