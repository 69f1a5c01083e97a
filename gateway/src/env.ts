import { join } from 'node:path';
import {
  authEnvShape,
  corsEnvShape,
  DEFAULT_PORTS,
  parseEnvOrExit,
  portSchema,
  queryLimitsEnvShape,
  refuseDefaultSecretInProduction,
  requireSignatureSecretInProduction,
  subgraphSignatureEnvShape,
  SUBGRAPH_NAMES,
  type SubgraphName,
} from '@tiergraph/runtime';
import { z } from 'zod';

const urlOf = (name: SubgraphName) =>
  z.string().url().default(`http://127.0.0.1:${DEFAULT_PORTS[name]}/graphql`);

export const gatewayEnvSchema = requireSignatureSecretInProduction(refuseDefaultSecretInProduction(
  z.object({
    ...authEnvShape,
    /** Browser frontends on other origins (README, "Calling the graph from a browser"). */
    ...corsEnvShape,
    GATEWAY_PORT: portSchema(DEFAULT_PORTS.gateway),
    /** The public entry point: every interface by default. */
    GATEWAY_HOST: z.string().min(1).default('0.0.0.0'),
    SUPERGRAPH_PATH: z.string().default(join(__dirname, '..', '..', 'schema', 'supergraph.graphql')),
    /** Opt-in development mode: compose at start from the running subgraphs instead of the committed supergraph. */
    GATEWAY_INTROSPECT_AND_COMPOSE: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
    /** A full recordUsageBatch (1,000 events, about 200 to 400 bytes each) fits; larger bodies get 413. */
    GATEWAY_BODY_LIMIT: z.string().default('1mb'),
    ...queryLimitsEnvShape,
    SUBGRAPH_HEALTH_TIMEOUT_MS: z.coerce.number().int().min(1).default(2000),
    /** How long one subgraph fetch may take before its fields fail with SUBGRAPH_UNAVAILABLE (the rest still answers). */
    SUBGRAPH_TIMEOUT_MS: z.coerce.number().int().min(1).default(10_000),
    /**
     * The subgraph client: `http` (node:http, keep-alive LIFO pool: about a third less gateway CPU per request, see
     * bench/RESULTS.md) or `fetch` (Node's fetch, undici), kept for comparison in the bench.
     */
    GATEWAY_SUBGRAPH_CLIENT: z.enum(['http', 'fetch']).default('http'),
    /**
     * Every subgraph request is signed with it (HMAC-SHA256 of the body, `x-tiergraph-signature`); subgraphs with the
     * same secret answer `_entities` only to signed requests. Required in production.
     */
    ...subgraphSignatureEnvShape,
    /**
     * The response cache of read operations (response-cache.ts): `off` by default, as its exactness rests on every
     * write naming what it changed (services and counter triggers do; hand-written SQL on billing's tables does not)
     * and it needs DATABASE_URL for its LISTEN connection. `on` is the bench's and a deployment's deliberate choice.
     */
    GATEWAY_RESPONSE_CACHE: z.enum(['on', 'off']).default('off'),
    /** Entries at most (least recently used go first). */
    GATEWAY_RESPONSE_CACHE_MAX_ENTRIES: z.coerce.number().int().min(1).default(10_000),
    /** Bytes of cached answers at most, in MB (a MerchantFeatures answer is 2 to 4 KB). */
    GATEWAY_RESPONSE_CACHE_MAX_MB: z.coerce.number().positive().default(64),
    /** A backstop: no entry is served longer than this even if no change was notified. */
    GATEWAY_RESPONSE_CACHE_MAX_AGE_MS: z.coerce.number().int().min(1).default(60_000),
    /** postgres:// URL the response cache LISTENs on for changed tags (required with GATEWAY_RESPONSE_CACHE=on). */
    DATABASE_URL: z.string().url().optional(),
    BILLING_URL: urlOf('billing'),
    TENANCY_URL: urlOf('tenancy'),
    CATALOG_URL: urlOf('catalog'),
    ORDERS_URL: urlOf('orders'),
    MEDIA_URL: urlOf('media'),
    MONITORING_URL: urlOf('monitoring'),
  }),
).refine((env) => env.GATEWAY_RESPONSE_CACHE === 'off' || !!env.DATABASE_URL, {
  message: 'GATEWAY_RESPONSE_CACHE=on needs DATABASE_URL (the cache LISTENs for changes)',
  path: ['DATABASE_URL'],
}));
export type GatewayEnv = z.infer<typeof gatewayEnvSchema>;

export function parseGatewayEnv(source: NodeJS.ProcessEnv): GatewayEnv {
  return parseEnvOrExit(gatewayEnvSchema, source);
}

export function subgraphUrls(env: GatewayEnv): Record<SubgraphName, string> {
  return Object.fromEntries(
    SUBGRAPH_NAMES.map((name) => [name, env[`${name.toUpperCase()}_URL` as keyof GatewayEnv] as string]),
  ) as Record<SubgraphName, string>;
}
