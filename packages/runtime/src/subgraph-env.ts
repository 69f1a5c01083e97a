import { z } from 'zod';
import { authEnvShape, parseEnvOrExit, portSchema, refuseDefaultSecretInProduction } from './env';
import { queryLimitsEnvShape } from './query-limits';
import { requireSignatureSecretInProduction, subgraphSignatureEnvShape } from './request-signature';

/** Default ports of the contract (contract/README.md). */
export const DEFAULT_PORTS = {
  gateway: 4000,
  billing: 4001,
  tenancy: 4002,
  catalog: 4003,
  orders: 4004,
  media: 4005,
  monitoring: 4006,
} as const;
export type SubgraphName = Exclude<keyof typeof DEFAULT_PORTS, 'gateway'>;
export const SUBGRAPH_NAMES = Object.keys(DEFAULT_PORTS).filter((n) => n !== 'gateway') as SubgraphName[];

export function defaultSubgraphUrl(name: SubgraphName): string {
  return `http://127.0.0.1:${DEFAULT_PORTS[name]}/graphql`;
}

/** The `<NAME>_URL` of every subgraph from a parsed environment. */
export function subgraphUrlsOf(env: Record<string, unknown>): Record<SubgraphName, string> {
  return Object.fromEntries(SUBGRAPH_NAMES.map((n) => [n, String(env[`${n.toUpperCase()}_URL`] ?? defaultSubgraphUrl(n))])) as Record<SubgraphName, string>;
}

/**
 * The environment of one subgraph process: `<NAME>_PORT`, DATABASE_URL, auth, logging,
 * MIGRATE_ON_START (default true; migrations are serialised with an advisory lock).
 */
export function subgraphEnvSchema(name: SubgraphName) {
  const portVar = `${name.toUpperCase()}_PORT`;
  const shape = {
    ...authEnvShape,
    /** The gateway's query limits, again: a subgraph can be called directly. */
    ...queryLimitsEnvShape,
    /** Shared with the gateway: `_entities` only for requests signed with it (request-signature.ts); required in production. */
    ...subgraphSignatureEnvShape,
    DATABASE_URL: z.string().url({ message: 'DATABASE_URL must be a postgres:// URL' }),
    DB_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(10),
    /** The batched loaders' reads as prepared statements built once (`prepared`) or TypeORM QueryBuilders (`typeorm`); db.ts LoaderSql. */
    DB_LOADER_SQL: z.enum(['prepared', 'typeorm']).default('prepared'),
    /** POST /graphql straight to Apollo Server (`direct`) or through express (`express`); server.ts GraphQLHandler. */
    SUBGRAPH_GRAPHQL_HANDLER: z.enum(['direct', 'express']).default('direct'),
    /** Apollo Server's per-field cache-control plugin: `off` (default; no schema has cache hints) or `on`; server.ts. */
    SUBGRAPH_CACHE_CONTROL: z.enum(['off', 'on']).default('off'),
    /** A parsed, validated operation runs compiled by graphql-jit (`compiled`) or in graphql-js (`graphql-js`); executor.ts. */
    SUBGRAPH_EXECUTOR: z.enum(['compiled', 'graphql-js']).default('compiled'),
    MIGRATE_ON_START: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
    /**
     * The address the subgraph listens on: loopback by default, as only the gateway (and the other subgraphs)
     * should reach it; `0.0.0.0` in a container, where they come from another host.
     */
    BIND_HOST: z.string().min(1).default('127.0.0.1'),
    /** Where this subgraph reaches the others for internal calls (entitlements, stores, products). */
    ...Object.fromEntries(
      (Object.keys(DEFAULT_PORTS) as Array<keyof typeof DEFAULT_PORTS>)
        .filter((n) => n !== 'gateway')
        .map((n) => [`${n.toUpperCase()}_URL`, z.string().url().default(defaultSubgraphUrl(n as SubgraphName))]),
    ) as Record<`${Uppercase<SubgraphName>}_URL`, z.ZodDefault<z.ZodString>>,
  };
  const withPort = { ...shape, [portVar]: portSchema(DEFAULT_PORTS[name]) } as typeof shape;
  return requireSignatureSecretInProduction(
    refuseDefaultSecretInProduction(z.object(withPort).transform((env) => ({ ...env, PORT: (env as Record<string, unknown>)[portVar] as number }))),
  );
}
export type SubgraphEnv = z.infer<ReturnType<typeof subgraphEnvSchema>>;

export function parseSubgraphEnv(name: SubgraphName, source: NodeJS.ProcessEnv): SubgraphEnv {
  return parseEnvOrExit(subgraphEnvSchema(name), source);
}
