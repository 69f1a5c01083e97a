/**
 * Hive Gateway (`@graphql-hive/gateway`, a bench-only devDependency) as the bench's peer: the same supergraph (with
 * the bench's subgraph ports) and the same subgraphs as tiergraph's gateway. Subgraphs verify the caller's token
 * themselves, so it only has to pass `Authorization` on, as tiergraph's gateway does.
 *
 *   node_modules/.bin/hive-gateway supergraph .data/bench/supergraph-bench.graphql -c bench/hive-gateway.config.mjs -p 4120
 *
 * Plain JavaScript on purpose: its typings bring a newer @types/node that breaks the repository's type-check.
 */
import { createHmac, createSecretKey } from 'node:crypto';

const secret = process.env.SUBGRAPH_HMAC_SECRET;
/** The HMAC key, built once (not per request). */
const key = secret ? createSecretKey(Buffer.from(secret, 'utf8')) : undefined;

/**
 * tiergraph's subgraphs answer `_entities` only to requests signed over their timestamp, Authorization and body
 * (x-tiergraph-signature: `t=<unix seconds>,sha256=<hex>` of `<t>\n<Authorization>\n<body>`, the scheme of
 * packages/runtime/src/request-signature.ts, refused past 60 s); Hive's own hmacSignature signs differently (in the
 * body's extensions), so the peer signs the way tiergraph's gateway does, in its fetch hook, where the body and the
 * propagated Authorization are final.
 */
const signTiergraphRequests = {
  onFetch({ options, setOptions }) {
    if (!key || typeof options.body !== 'string') return;
    const headers = options.headers instanceof Headers ? Object.fromEntries(options.headers) : { ...options.headers };
    const authorization = Object.entries(headers).find(([name]) => name.toLowerCase() === 'authorization')?.[1] ?? '';
    const t = Math.floor(Date.now() / 1000);
    const mac = createHmac('sha256', key).update(`${t}\n${authorization}\n`).update(options.body).digest('hex');
    setOptions({ ...options, headers: { ...headers, 'x-tiergraph-signature': `t=${t},sha256=${mac}` } });
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
