/**
 * Hive Gateway (`@graphql-hive/gateway`, a bench-only devDependency) as the bench's peer: the same supergraph (with
 * the bench's subgraph ports) and the same subgraphs as tiergraph's gateway. Subgraphs verify the caller's token
 * themselves, so it only has to pass `Authorization` on, as tiergraph's gateway does.
 *
 *   node_modules/.bin/hive-gateway supergraph .data/bench/supergraph-bench.graphql -c bench/hive-gateway.config.mjs -p 4120
 *
 * Plain JavaScript on purpose: its typings bring a newer @types/node that breaks the repository's type-check.
 */
import { createHmac } from 'node:crypto';

const secret = process.env.SUBGRAPH_HMAC_SECRET;

/**
 * tiergraph's subgraphs answer `_entities` only to requests signed over their body (x-tiergraph-signature, the
 * scheme of packages/runtime/src/request-signature.ts); Hive's own hmacSignature signs differently (in the body's
 * extensions), so the peer signs the way tiergraph's gateway does, in its fetch hook, where the body is final.
 */
const signTiergraphRequests = {
  onFetch({ options, setOptions }) {
    if (!secret || typeof options.body !== 'string') return;
    const signature = `sha256=${createHmac('sha256', secret).update(options.body).digest('hex')}`;
    const headers = options.headers instanceof Headers ? Object.fromEntries(options.headers) : { ...options.headers };
    setOptions({ ...options, headers: { ...headers, 'x-tiergraph-signature': signature } });
  },
};

/** @type {import('@graphql-hive/gateway').GatewayConfig} */
export const gatewayConfig = {
  plugins: () => [signTiergraphRequests],
  propagateHeaders: {
    fromClientToSubgraphs: ({ request }) => ({ authorization: request.headers.get('authorization') ?? '' }),
  },
  logging: 'warn',
  // nothing leaves the machine
  reporting: undefined,
  graphiql: false,
};
