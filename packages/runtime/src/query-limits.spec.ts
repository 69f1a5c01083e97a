import { ApolloServer } from '@apollo/server';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { DEFAULT_QUERY_LIMITS, queryProtection, type QueryLimits } from './query-limits';

const schema = buildSubgraphSchema([
  {
    typeDefs: parse(`type Query { echo(text: String!, id: ID): String! }`),
    resolvers: { Query: { echo: (_: unknown, a: { text: string }) => a.text } },
  },
]);

async function serverWith(check: QueryLimits['GRAPHQL_INPUT_CHECK']) {
  const protection = queryProtection({ ...DEFAULT_QUERY_LIMITS, GRAPHQL_INPUT_CHECK: check }, { production: false });
  const server = new ApolloServer({ schema, validationRules: protection.validationRules, plugins: protection.plugins });
  await server.start();
  return server;
}

async function answer(server: ApolloServer, query: string, variables?: Record<string, unknown>) {
  const response = await server.executeOperation({ query, variables });
  if (response.body.kind !== 'single') throw new Error('expected a single result');
  const { data, errors } = response.body.singleResult;
  return { data, errors: errors?.map((e) => ({ code: e.extensions?.code, field: e.extensions?.field })) };
}

describe.each(['document', 'request'] as const)('string inputs are checked with GRAPHQL_INPUT_CHECK=%s', (check) => {
  let server: ApolloServer;
  beforeAll(async () => {
    server = await serverWith(check);
  });
  afterAll(() => server.stop());

  it('refuses a literal with a control character on every request of the same query text, not only the first', async () => {
    const query = '{ echo(text: "a\\u0000b") }';
    const refused = { errors: [{ code: 'BAD_USER_INPUT', field: 'text' }] };
    expect(await answer(server, query)).toEqual(refused);
    expect(await answer(server, query)).toEqual(refused);
    expect(await answer(server, query)).toEqual(refused);
  });

  it('refuses an overlong id literal and answers a clean query of the same shape', async () => {
    expect(await answer(server, `{ echo(text: "x", id: "${'i'.repeat(129)}") }`)).toEqual({ errors: [{ code: 'BAD_USER_INPUT', field: 'id' }] });
    expect(await answer(server, `{ echo(text: "x", id: "${'i'.repeat(128)}") }`)).toEqual({ data: { echo: 'x' } });
  });

  it('checks the variables of each request, whatever an earlier request of the same query text sent', async () => {
    const query = 'query($t: String!) { echo(text: $t) }';
    expect(await answer(server, query, { t: 'fine' })).toEqual({ data: { echo: 'fine' } });
    expect(await answer(server, query, { t: 'not\u0007fine' })).toEqual({ errors: [{ code: 'BAD_USER_INPUT', field: 't' }] });
    expect(await answer(server, query, { t: 'fine again' })).toEqual({ data: { echo: 'fine again' } });
  });
});
