import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSubgraphSchema, type GraphQLResolverMap } from '@apollo/subgraph';
import type { Express } from 'express';
import { parse, type DocumentNode } from 'graphql';
import type { DataSource, EntitySchema, MixedList } from 'typeorm';
import { createTokenVerifier, serviceTokenProvider, type AuthConfig, type StoreOwnerLookup, type TokenVerifier } from './auth';
import { createSubgraphDataSource, runMigrations, type LoaderSql } from './db';
import { BillingEntitlementsClient, EntitlementCache, type EntitlementSource } from './entitlements';
import type { FeatureDeclaration } from './features';
import { AppError } from './errors';
import type { SubgraphExecutor } from './executor';
import { callSubgraph, StoreDirectory, withSigner, type ServiceCredentials } from './internal-client';
import { requestSigner } from './request-signature';
import { listenForEntitlementChanges, type ChangeListener, type EntitlementChange } from './notify';
import { createLogger, type Logger } from './logger';
import type { QueryLimits } from './query-limits';
import { startSubgraphServer, stopOnSignals, type GraphQLHandler, type RequestContext, type RunningServer } from './server';
import { defaultSubgraphUrl, SUBGRAPH_NAMES, subgraphUrlsOf, type SubgraphEnv, type SubgraphName } from './subgraph-env';

/** Reads a subgraph's SDL (`<subgraph>/schema.graphql`, next to its `src/`). */
export function loadTypeDefs(srcDir: string): DocumentNode {
  return parse(readFileSync(join(srcDir, '..', 'schema.graphql'), 'utf8'));
}

export interface SubgraphDependencies {
  dataSource: DataSource;
  logger: Logger;
  /** postgres:// URL of the database (for LISTEN connections). */
  databaseUrl: string;
  /** Every subgraph's GraphQL URL, for internal calls. */
  urls: Record<SubgraphName, string>;
  /** Signs service tokens for internal calls between subgraphs (and their bodies, with SUBGRAPH_HMAC_SECRET). */
  serviceToken: ServiceCredentials;
  /** Effective limits from billing, cached in process and invalidated by LISTEN/NOTIFY (when the definition asks for them). */
  entitlements: EntitlementSource;
  /** Runs `handler` on every entitlement change notification (and with { all: true } when the listener reconnects). */
  onEntitlementChange: (handler: (change: EntitlementChange) => void) => void;
  /**
   * Whether the entitlement change listener is connected now (false without one): a process cache invalidated by
   * onEntitlementChange may be trusted only while it is (when it is lost, it is false first, then `{ all: true }` comes).
   */
  entitlementListenerLive: () => boolean;
  /**
   * Which merchant and platform each store belongs to, from tenancy and kept in process: one directory per process,
   * the one that also confirms store tokens (`storeOwner`).
   */
  stores: StoreDirectory;
  /** Verifies a request's Authorization header as /graphql does, for REST routes (uploads). */
  verifyToken: TokenVerifier;
  /** Runs `handler` when the subgraph stops, before the database closes (timers, background sweeps). */
  onStop: (handler: () => Promise<void> | void) => void;
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
  /** The features this subgraph owns; registered with billing at start, so billing's code names none. */
  features?: FeatureDeclaration[];
  /** Whether this subgraph enforces limits and so needs billing's entitlements (cached, invalidated by NOTIFY). */
  usesEntitlements?: boolean;
  /** Where entitlements come from when not from billing over HTTP (billing itself reads its tables). */
  entitlementSource?: (deps: Pick<SubgraphDependencies, 'dataSource' | 'logger'>) => EntitlementSource;
  /**
   * Where a store token's store is confirmed (auth.ts StoreOwnerLookup) when not from tenancy over HTTP (the
   * directory): tenancy reads its own table.
   */
  storeOwner?: (deps: Pick<SubgraphDependencies, 'dataSource' | 'logger'>) => StoreOwnerLookup;
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
  /** Other subgraphs' GraphQL URLs (default: the contract's local ones). */
  urls?: Partial<Record<SubgraphName, string>>;
  /** Wait until billing has accepted this subgraph's feature declarations before resolving (tests). */
  awaitFeatureRegistration?: boolean;
  /** Depth, alias, cost and token limits (default: the gateway's defaults). */
  queryLimits?: QueryLimits;
  /** How POST /graphql is served (server.ts GraphQLHandler; default direct). */
  graphqlHandler?: GraphQLHandler;
  /**
   * SUBGRAPH_HMAC_SECRET: `_entities` only for requests signed with it (by the gateway, or by another subgraph's
   * internal call, which this subgraph's calls are too). Unset: nothing signed, nothing asked for.
   */
  signatureSecret?: string;
  /** Apollo Server's per-field cache-control plugin (server.ts; default off). */
  cacheControl?: boolean;
  /** How operations are executed (executor.ts; default compiled). */
  executor?: SubgraphExecutor;
  /** How the batched loaders read (db.ts LoaderSql; default prepared). */
  loaderSql?: LoaderSql;
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
    loaderSql: options.loaderSql,
  });
  await dataSource.initialize();
  let listener: ChangeListener | undefined;
  let stopRegistration = () => undefined as void;
  try {
    if (options.migrate ?? true) await runMigrations(dataSource, logger);
    const serviceToken = withSigner(
      serviceTokenProvider(options.auth.AUTH_JWT_SECRET, definition.name),
      options.signatureSecret ? requestSigner(options.signatureSecret) : undefined,
    );
    const urls = { ...Object.fromEntries(SUBGRAPH_NAMES.map((n) => [n, defaultSubgraphUrl(n)])), ...options.urls } as Record<SubgraphName, string>;
    const source = definition.entitlementSource?.({ dataSource, logger }) ?? new BillingEntitlementsClient(urls.billing, serviceToken);
    const cache = new EntitlementCache(source);
    const changeHandlers: Array<(change: EntitlementChange) => void> = [(change) => cache.invalidate(change)];
    let listenerLive = false;
    if (definition.usesEntitlements) {
      listener = await listenForEntitlementChanges({
        databaseUrl: options.databaseUrl,
        logger,
        onChange: (change) => changeHandlers.forEach((handler) => handler(change)),
        onConnectionChange: (live) => {
          listenerLive = live;
          cache.setLive(live);
        },
      });
    }
    const stores = new StoreDirectory(urls.tenancy, serviceToken);
    // every request's token, /graphql and REST alike: a store token only for a store of its merchant
    const verifyToken = createTokenVerifier(options.auth, { storeOwner: definition.storeOwner?.({ dataSource, logger }) ?? stores.ownerOf });
    const stopHandlers: Array<() => Promise<void> | void> = [];
    const deps: SubgraphDependencies = {
      dataSource,
      logger,
      databaseUrl: options.databaseUrl,
      urls,
      serviceToken,
      entitlements: cache,
      onEntitlementChange: (handler) => changeHandlers.push(handler),
      entitlementListenerLive: () => listenerLive,
      stores,
      verifyToken,
      onStop: (handler) => stopHandlers.push(handler),
    };
    const server = await startSubgraphServer({
      name: definition.name,
      port: options.port,
      host: options.host,
      queryLimits: options.queryLimits,
      graphqlHandler: options.graphqlHandler,
      signatureSecret: options.signatureSecret,
      cacheControl: options.cacheControl,
      executor: options.executor,
      schema: buildSchemaOf(definition as unknown as SubgraphDefinition<RequestContext>),
      dataSource,
      verifyToken,
      logger,
      introspection: options.introspection ?? true,
      buildContext: definition.createContext(deps),
      configureApp: definition.configureApp ? (app) => definition.configureApp!(app, deps) : undefined,
    });
    if (definition.features?.length) {
      // billing takes its own declarations the same way, at its own address
      const billing = definition.name === 'billing' ? server.url : urls.billing;
      const registration = registerFeaturesUntilAccepted(definition.name, definition.features, billing, serviceToken, logger);
      stopRegistration = registration.stop;
      if (options.awaitFeatureRegistration) await registration.accepted;
    }
    return {
      ...server,
      dataSource,
      stop: async () => {
        stopRegistration();
        for (const handler of stopHandlers) await handler();
        await listener?.close();
        await server.stop();
      },
    };
  } catch (error) {
    stopRegistration();
    await listener?.close();
    await dataSource.destroy().catch(() => undefined);
    throw error;
  }
}

const REGISTER_FEATURES = `mutation RegisterFeatures($owner: String!, $features: [FeatureDeclarationInput!]!) {
  registerFeatures(owner: $owner, features: $features)
}`;

/**
 * Contributes the owner's feature declarations to billing's feature catalog, retrying until billing accepts
 * them (billing may start after its owners).
 */
function registerFeaturesUntilAccepted(
  owner: string,
  features: FeatureDeclaration[],
  billingUrl: string,
  serviceToken: ServiceCredentials,
  logger: Logger,
): { accepted: Promise<void>; stop: () => void } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const accepted = new Promise<void>((resolve) => {
    const attempt = async (delay: number): Promise<void> => {
      if (stopped) return resolve();
      try {
        await callSubgraph(billingUrl, REGISTER_FEATURES, { owner, features }, serviceToken);
        logger.info({ features: features.map((f) => f.code) }, 'feature declarations registered with billing');
        return resolve();
      } catch (error) {
        // billing refused the declarations (a code another owner holds, say): retrying cannot help
        if (error instanceof AppError) {
          logger.error({ err: error }, `billing refused the feature declarations: ${error.message}`);
          return resolve();
        }
        logger.debug({ err: error }, 'billing did not take the feature declarations yet; retrying');
        timer = setTimeout(() => void attempt(Math.min(delay * 2, 5000)), delay);
      }
    };
    void attempt(200);
  });
  return {
    accepted,
    stop: () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}

/** The `main` of a subgraph process: start with the environment its env.ts parsed, stop on SIGINT/SIGTERM. */
export async function runSubgraphMain<TContext extends RequestContext>(definition: SubgraphDefinition<TContext>, env: SubgraphEnv): Promise<void> {
  const logger = createLogger(definition.name, env.LOG_LEVEL);
  try {
    const running = await startSubgraph(definition, {
      databaseUrl: env.DATABASE_URL,
      port: env.PORT,
      host: env.BIND_HOST,
      queryLimits: env,
      auth: env,
      logger,
      introspection: env.NODE_ENV !== 'production',
      migrate: env.MIGRATE_ON_START,
      poolSize: env.DB_POOL_SIZE,
      urls: subgraphUrlsOf(env),
      graphqlHandler: env.SUBGRAPH_GRAPHQL_HANDLER,
      signatureSecret: env.SUBGRAPH_HMAC_SECRET,
      cacheControl: env.SUBGRAPH_CACHE_CONTROL === 'on',
      executor: env.SUBGRAPH_EXECUTOR,
      loaderSql: env.DB_LOADER_SQL,
    });
    stopOnSignals(running.stop, logger);
  } catch (error) {
    logger.fatal({ err: error }, `${definition.name} failed to start: ${(error as Error).message}`);
    process.exit(1);
  }
}
