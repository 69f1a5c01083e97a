import { join } from 'node:path';
import {
  authEnvShape,
  corsEnvShape,
  DEFAULT_PORTS,
  parseEnvOrExit,
  portSchema,
  refuseDefaultSecretInProduction,
  SUBGRAPH_NAMES,
  type SubgraphName,
} from '@tiergraph/runtime';
import { z } from 'zod';

const urlOf = (name: SubgraphName) =>
  z.string().url().default(`http://127.0.0.1:${DEFAULT_PORTS[name]}/graphql`);

export const gatewayEnvSchema = refuseDefaultSecretInProduction(
  z.object({
    ...authEnvShape,
    /** Browser frontends on other origins (README, "Calling the graph from a browser"). */
    ...corsEnvShape,
    GATEWAY_PORT: portSchema(DEFAULT_PORTS.gateway),
    SUPERGRAPH_PATH: z.string().default(join(__dirname, '..', '..', 'schema', 'supergraph.graphql')),
    /** Opt-in development mode: compose at start from the running subgraphs instead of the committed supergraph. */
    GATEWAY_INTROSPECT_AND_COMPOSE: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
    /** A full recordUsageBatch (1,000 events, about 200 to 400 bytes each) fits; larger bodies get 413. */
    GATEWAY_BODY_LIMIT: z.string().default('1mb'),
    GRAPHQL_MAX_DEPTH: z.coerce.number().int().min(1).default(12),
    GRAPHQL_MAX_ALIASES: z.coerce.number().int().min(0).default(15),
    GRAPHQL_MAX_COST: z.coerce.number().int().min(1).default(20000),
    GRAPHQL_MAX_TOKENS: z.coerce.number().int().min(1).default(2000),
    SUBGRAPH_HEALTH_TIMEOUT_MS: z.coerce.number().int().min(1).default(2000),
    BILLING_URL: urlOf('billing'),
    TENANCY_URL: urlOf('tenancy'),
    CATALOG_URL: urlOf('catalog'),
    ORDERS_URL: urlOf('orders'),
    MEDIA_URL: urlOf('media'),
    MONITORING_URL: urlOf('monitoring'),
  }),
);
export type GatewayEnv = z.infer<typeof gatewayEnvSchema>;

export function parseGatewayEnv(source: NodeJS.ProcessEnv): GatewayEnv {
  return parseEnvOrExit(gatewayEnvSchema, source);
}

export function subgraphUrls(env: GatewayEnv): Record<SubgraphName, string> {
  return Object.fromEntries(
    SUBGRAPH_NAMES.map((name) => [name, env[`${name.toUpperCase()}_URL` as keyof GatewayEnv] as string]),
  ) as Record<SubgraphName, string>;
}
