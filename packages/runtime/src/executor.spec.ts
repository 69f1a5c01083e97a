import { buildSubgraphSchema } from '@apollo/subgraph';
import { startBareSubgraphServer, testAuth } from '@tiergraph/testkit';
import { parse } from 'graphql';
import { DateTimeResolver } from 'graphql-scalars';
import { signToken } from './auth';
import { BadUserInputError } from './errors';
import type { SubgraphExecutor } from './executor';
import type { RunningServer } from './server';

// The compiled executor must answer as graphql-js does, through the whole subgraph server (validation, plugins,
// formatError): both executors serve the same schema and every answer is compared.
const later = (value: unknown) => new Promise((resolve) => setImmediate(() => resolve(value)));
const items = [
  { id: 'a', size: 1, at: new Date('2026-01-02T03:04:05.000Z') },
  { id: 'b', size: 2, at: new Date('2026-02-03T04:05:06.000Z') },
];
const schema = buildSubgraphSchema([
  {
    typeDefs: parse(`
      scalar DateTime
      type Item @key(fields: "id") { id: ID! size: Int! at: DateTime! double: Int! tags: [String!]! }
      type Query {
        items(min: Int = 0): [Item!]!
        refused: Int
        unreachable: Int
        since(at: DateTime!): [Item!]!
      }
      type Mutation { append(text: String!): [String!]! }
      extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
    `),
    resolvers: {
      DateTime: DateTimeResolver,
      Query: {
        items: (_: unknown, { min }: { min: number }) => later(items.filter((i) => i.size >= min)),
        refused: () => {
          throw new BadUserInputError('min is too small', 'min');
        },
        // node-postgres throws a plain object when it cannot connect
        unreachable: () => Promise.reject({ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:5432' }),
        since: (_: unknown, { at }: { at: Date }) => items.filter((i) => i.at >= at),
      },
      Item: {
        __resolveReference: (ref: { id: string }) => later(items.find((i) => i.id === ref.id) ?? null),
        double: (item: { size: number }) => later(item.size * 2),
        tags: (item: { id: string }) => [item.id, 'x'],
      },
      Mutation: {
        // serial: each append sees the ones before it
        append: async (_: unknown, { text }: { text: string }, ctx: { log: string[] }) => {
          await later(null);
          ctx.log.push(text);
          return [...ctx.log];
        },
      },
    },
  },
]);

const servers: Partial<Record<SubgraphExecutor, RunningServer>> = {};
let token: string;
beforeAll(async () => {
  token = await signToken(testAuth.AUTH_JWT_SECRET, { role: 'admin' });
  for (const executor of ['compiled', 'graphql-js'] as const) {
    servers[executor] = await startBareSubgraphServer({ schema, buildContext: (base) => ({ ...base, log: [] as string[] }), executor });
  }
});
afterAll(async () => {
  for (const server of Object.values(servers)) await server?.stop();
});

type Answer = { status: number; body: { data?: unknown; errors?: Array<{ message: string; path?: unknown[]; locations?: unknown; extensions?: Record<string, unknown> }> } };
async function ask(executor: SubgraphExecutor, query: string, variables?: Record<string, unknown>, operationName?: string): Promise<Answer> {
  const response = await fetch(servers[executor]!.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables, operationName }),
  });
  const body = (await response.json()) as Answer['body'];
  // the request id differs per request: compared as present
  for (const error of body.errors ?? []) if (error.extensions?.requestId) error.extensions.requestId = '(id)';
  return { status: response.status, body };
}
const both = async (query: string, variables?: Record<string, unknown>, operationName?: string) => {
  const [compiled, reference] = [await ask('compiled', query, variables, operationName), await ask('graphql-js', query, variables, operationName)];
  expect(compiled).toEqual(reference);
  return compiled;
};

describe('the compiled executor answers as graphql-js does', () => {
  it('data: aliases, lists, default arguments, async fields, custom scalars, entities through the union', async () => {
    const query = `query Q($min: Int) { all: items { id at double tags } big: items(min: $min) { id size } _entities(representations: [{ __typename: "Item", id: "b" }, { __typename: "Item", id: "nope" }]) { ... on Item { id double } } }`;
    const answer = await both(query, { min: 2 });
    expect(answer.body).toEqual({
      data: {
        all: [
          { id: 'a', at: '2026-01-02T03:04:05.000Z', double: 2, tags: ['a', 'x'] },
          { id: 'b', at: '2026-02-03T04:05:06.000Z', double: 4, tags: ['b', 'x'] },
        ],
        big: [{ id: 'b', size: 2 }],
        _entities: [{ id: 'b', double: 4 }, null],
      },
    });
  });

  it('reuses a compiled operation with new variables, and tells two texts of one operation name apart', async () => {
    const query = `query Q($min: Int) { items(min: $min) { id } }`;
    expect((await ask('compiled', query, { min: 0 })).body.data).toEqual({ items: [{ id: 'a' }, { id: 'b' }] });
    expect((await ask('compiled', query, { min: 2 })).body.data).toEqual({ items: [{ id: 'b' }] });
    expect((await ask('compiled', `query Q { items { size } }`)).body.data).toEqual({ items: [{ size: 1 }, { size: 2 }] });
  });

  it('errors: a coded error keeps its code, field, path and location; a plain-object connection failure is DATABASE_UNAVAILABLE', async () => {
    const answer = await both(`{ refused unreachable items { id } }`);
    expect(answer.body.data).toEqual({ refused: null, unreachable: null, items: [{ id: 'a' }, { id: 'b' }] });
    expect(answer.body.errors?.map((e) => [e.path, e.extensions?.code, e.extensions?.field, e.locations])).toEqual([
      [['refused'], 'BAD_USER_INPUT', 'min', [{ line: 1, column: 3 }]],
      [['unreachable'], 'DATABASE_UNAVAILABLE', undefined, [{ line: 1, column: 11 }]],
    ]);
    expect(answer.body.errors?.[1].extensions).toMatchObject({ retryable: true, requestId: '(id)' });
  });

  it('a refused variable is BAD_USER_INPUT naming the variable, status 400, nothing run', async () => {
    const answer = await both(`query S($at: DateTime!) { since(at: $at) { id } }`, { at: 'not a date' });
    expect([answer.status, answer.body.data, answer.body.errors?.map((e) => [e.extensions?.code, e.extensions?.field])]).toEqual([400, undefined, [['BAD_USER_INPUT', 'at']]]);
    expect((await both(`query S($at: DateTime!) { since(at: $at) { id } }`, { at: '2026-02-01T00:00:00Z' })).body.data).toEqual({ since: [{ id: 'b' }] });
  });

  it('mutations run one root field after the other', async () => {
    const answer = await both(`mutation { first: append(text: "1") second: append(text: "2") third: append(text: "3") }`);
    expect(answer.body.data).toEqual({ first: ['1'], second: ['1', '2'], third: ['1', '2', '3'] });
  });
});
