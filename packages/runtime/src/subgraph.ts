import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSubgraphSchema, type GraphQLResolverMap } from '@apollo/subgraph';
import type { Express } from 'express';
import { parse, type DocumentNode } from 'graphql';
import type { DataSource, EntitySchema, MixedList } from 'typeorm';
import { createTokenVerifier, type AuthConfig } from './auth';
import { createSubgraphDataSource, runMigrations } from './db';
import { createLogger, type Logger } from './logger';
import { startSubgraphServer, stopOnSignals, type RequestContext, type RunningServer } from './server';
import type { SubgraphEnv, SubgraphName } from './subgraph-env';

/** Reads a subgraph's SDL (`<subgraph>/schema.graphql`, next to its `src/`). */
export function loadTypeDefs(srcDir: string): DocumentNode {
  return parse(readFileSync(join(srcDir, '..', 'schema.graphql'), 'utf8'));
}

export interface SubgraphDependencies {
  dataSource: DataSource;
  logger: Logger;
}

/** Everything that makes one subgraph: its schema, resolvers, tables and how a request's context is built. */
export interface SubgraphDefinition<TContext extends RequestContext> {
  name: SubgraphName;
  typeDefs: DocumentNode;
  resolvers: object;
  // eslint-disable-next-line @typescript-eslint/ban-types
  entities: MixedList<Function | string | EntitySchema>;
  // eslint-disable-next-line @typescript-eslint/ban-types
  migrations: MixedList<Function | string>;
  /** Called once at start; returns the per-request context builder (services, loaders). */
  createContext: (deps: SubgraphDependencies) => (base: RequestContext) => TContext;
  configureApp?: (app: Express, deps: SubgraphDependencies) => void;
}

export interface StartSubgraphOptions {
  databaseUrl: string;
  port: number;
  host?: string;
  auth: AuthConfig;
  logger?: Logger;
  logLevel?: string;
  introspection?: boolean;
  migrate?: boolean;
  poolSize?: number;
}

export type RunningSubgraph = RunningServer & { dataSource: DataSource };

export function buildSchemaOf(definition: SubgraphDefinition<RequestContext>) {
  return buildSubgraphSchema([{ typeDefs: definition.typeDefs, resolvers: definition.resolvers as GraphQLResolverMap<unknown> }]);
}

/** Starts one subgraph: connect, migrate (optional), serve. Used by `main` and by the tests alike. */
export async function startSubgraph<TContext extends RequestContext>(
  definition: SubgraphDefinition<TContext>,
  options: StartSubgraphOptions,
): Promise<RunningSubgraph> {
  const logger = options.logger ?? createLogger(definition.name, options.logLevel);
  const dataSource = createSubgraphDataSource({
    url: options.databaseUrl,
    schema: definition.name,
    entities: definition.entities,
    migrations: definition.migrations,
    poolSize: options.poolSize,
  });
  await dataSource.initialize();
  try {
    if (options.migrate ?? true) await runMigrations(dataSource, logger);
    const deps = { dataSource, logger };
    const server = await startSubgraphServer({
      name: definition.name,
      port: options.port,
      host: options.host,
      schema: buildSchemaOf(definition as unknown as SubgraphDefinition<RequestContext>),
      dataSource,
      verifyToken: createTokenVerifier(options.auth),
      logger,
      introspection: options.introspection ?? true,
      buildContext: definition.createContext(deps),
      configureApp: definition.configureApp ? (app) => definition.configureApp!(app, deps) : undefined,
    });
    return { ...server, dataSource };
  } catch (error) {
    await dataSource.destroy().catch(() => undefined);
    throw error;
  }
}

/** The `main` of a subgraph process: start with the environment its env.ts parsed, stop on SIGINT/SIGTERM. */
export async function runSubgraphMain<TContext extends RequestContext>(definition: SubgraphDefinition<TContext>, env: SubgraphEnv): Promise<void> {
  const logger = createLogger(definition.name, env.LOG_LEVEL);
  try {
    const running = await startSubgraph(definition, {
      databaseUrl: env.DATABASE_URL,
      port: env.PORT,
      auth: env,
      logger,
      introspection: env.NODE_ENV !== 'production',
      migrate: env.MIGRATE_ON_START,
      poolSize: env.DB_POOL_SIZE,
    });
    stopOnSignals(running.stop, logger);
  } catch (error) {
    logger.fatal({ err: error }, `${definition.name} failed to start: ${(error as Error).message}`);
    process.exit(1);
  }
}
