import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { buildSchema, GraphQLError } from 'graphql';
import { NullOnFailedEntityFetch } from './failed-entity-fetch';

const schema = buildSchema(`
  type FeatureUsage { code: String! current: Int! }
  type MerchantSubscription { id: ID! ordersUsage: [FeatureUsage!] status: String! }
  type Store { id: ID! ordersUsage: [FeatureUsage!] }
  type Query { x: Int }
`);

const ENTITIES = `query Q__orders__1($representations: [_Any!]!) { _entities(representations: $representations) {
  ... on MerchantSubscription { __typename ordersUsage { code current } status }
  ... on Store { usage: ordersUsage { code current } }
} }`;

type Response = Awaited<ReturnType<GraphQLDataSource['process']>>;

function optionsFor(query: string, representations?: unknown[]): GraphQLDataSourceProcessOptions<Record<string, unknown>> {
  return {
    kind: 'incoming operation',
    request: { query, variables: representations ? { representations } : {} },
    incomingRequestContext: { schema },
    context: {},
  } as unknown as GraphQLDataSourceProcessOptions<Record<string, unknown>>;
}

const source = (process: () => Promise<Response>) => new NullOnFailedEntityFetch({ process } as GraphQLDataSource<Record<string, unknown>>);
const unavailable = () => new GraphQLError('the orders service is unreachable (ECONNREFUSED); its fields are missing from this answer', { extensions: { code: 'SUBGRAPH_UNAVAILABLE', serviceName: 'orders', reason: 'unreachable' } });

const representations = [
  { __typename: 'MerchantSubscription', id: '1' },
  { __typename: 'Store', id: 's' },
];

describe('a failed _entities fetch answers its nullable fields as null', () => {
  it('a thrown fetch (down, timed out): every nullable selected field is null, by its response name; the error is kept once with the fetch’s path', async () => {
    const response = await source(() => Promise.reject(unavailable())).process(optionsFor(ENTITIES, representations));
    // status is non-null: left missing, so the gateway nulls its parent as it did before
    expect(response.data).toEqual({ _entities: [{ __typename: 'MerchantSubscription', ordersUsage: null }, { __typename: 'Store', usage: null }] });
    expect(response.errors).toEqual([
      { message: expect.stringMatching(/^the orders service is unreachable/), extensions: { code: 'SUBGRAPH_UNAVAILABLE', serviceName: 'orders', reason: 'unreachable' }, path: [] },
    ]);
  });

  it('an entity the subgraph answered null for gets the same; the answered ones are kept as they are', async () => {
    const answered = { data: { _entities: [null, { usage: [{ code: 'max_orders_per_month', current: 4 }] }] }, errors: [{ message: 'boom' }] };
    const response = await source(async () => answered as Response).process(optionsFor(ENTITIES, representations));
    expect(response.data).toEqual({ _entities: [{ __typename: 'MerchantSubscription', ordersUsage: null }, { usage: [{ code: 'max_orders_per_month', current: 4 }] }] });
    expect(response.errors).toEqual([{ message: 'boom' }]);
  });

  it('an entity answered null without any error (a reference the subgraph does not know) stays null', async () => {
    const answered = { data: { _entities: [null, { usage: [] }] } };
    const response = await source(async () => answered as Response).process(optionsFor(ENTITIES, representations));
    expect(response.data).toEqual({ _entities: [null, { usage: [] }] });
  });

  it('a response without _entities but with errors: nulls as for a thrown fetch', async () => {
    const response = await source(async () => ({ errors: [{ message: 'nope' }] }) as Response).process(optionsFor(ENTITIES, representations));
    expect(response.data).toEqual({ _entities: [{ __typename: 'MerchantSubscription', ordersUsage: null }, { __typename: 'Store', usage: null }] });
    expect(response.errors).toEqual([{ message: 'nope' }]);
  });

  it('leaves a fetch alone when nothing selected is nullable, when it succeeds, and when it is not an _entities fetch', async () => {
    const onlyNonNull = `query($representations: [_Any!]!) { _entities(representations: $representations) { ... on MerchantSubscription { status } } }`;
    const error = unavailable();
    await expect(source(() => Promise.reject(error)).process(optionsFor(onlyNonNull, [representations[0]]))).rejects.toBe(error);
    await expect(source(() => Promise.reject(error)).process(optionsFor('{ x }'))).rejects.toBe(error);
    const ok = { data: { _entities: [{ ordersUsage: [] }, { usage: [] }] } } as Response;
    expect(await source(async () => ok).process(optionsFor(ENTITIES, representations))).toBe(ok);
  });
});
