/**
 * Hive Gateway (`@graphql-hive/gateway`, a bench-only devDependency) as the bench's peer: the same supergraph (with
 * the bench's subgraph ports) and the same subgraphs as tiergraph's gateway. Subgraphs verify the caller's token
 * themselves, so it only has to pass `Authorization` on, as tiergraph's gateway does.
 *
 *   node_modules/.bin/hive-gateway supergraph .data/bench/supergraph-bench.graphql -c bench/hive-gateway.config.mjs -p 4120
 *
 * Plain JavaScript on purpose: its typings bring a newer @types/node that breaks the repository's type-check.
 */
/** @type {import('@graphql-hive/gateway').GatewayConfig} */
export const gatewayConfig = {
  propagateHeaders: {
    fromClientToSubgraphs: ({ request }) => ({ authorization: request.headers.get('authorization') ?? '' }),
  },
  logging: 'warn',
  // nothing leaves the machine
  reporting: undefined,
  graphiql: false,
};
