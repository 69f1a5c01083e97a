import { randomBytes } from 'node:crypto';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { Client } from 'pg';
import pino from 'pino';
import {
  createTokenVerifier,
  startSubgraph,
  startSubgraphServer,
  type RequestContext,
  type RunningServer,
  type SubgraphServerOptions,
  type RunningSubgraph,
  type SubgraphDefinition,
  type SubgraphName,
} from '@tiergraph/runtime';
import { TEST_JWT_SECRET, TEST_SUBGRAPH_HMAC_SECRET } from './client';


export const testAuth = { AUTH_JWT_SECRET: TEST_JWT_SECRET };
export const silentLogger = pino({ level: 'silent' });

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests through jest (its globalSetup starts PostgreSQL)`);
  return value;
}

async function withAdmin<T>(fn: (admin: Client) => Promise<T>): Promise<T> {
  const admin = new Client({ connectionString: requiredEnv('TIERGRAPH_TEST_ADMIN_URL') });
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.end();
  }
}

/** A fresh database for one test file, cloned from the migrated template (every subgraph's schema). */
export async function createTestDatabase(): Promise<TestDatabase> {
  const template = requiredEnv('TIERGRAPH_TEST_TEMPLATE');
  const name = `t_${randomBytes(6).toString('hex')}`;
  await withAdmin((admin) => admin.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`));
  const url = new URL(requiredEnv('TIERGRAPH_TEST_ADMIN_URL'));
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: () => withAdmin((admin) => admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined),
  };
}

/** Whether nothing listens on the port (a listen probe on the loopback interface). */
function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/** Ports handed out by any test process of this machine, as files named by the port (created exclusively). */
const PORT_RESERVATIONS = join(tmpdir(), 'tiergraph-test-ports');
/** A reservation older than this is stale (its test is long over) and may be taken again. */
const RESERVATION_TTL_MS = 10 * 60_000;

/** Claims the port for this process unless another test process claimed it within the TTL. */
function reservePort(port: number): boolean {
  mkdirSync(PORT_RESERVATIONS, { recursive: true });
  const file = join(PORT_RESERVATIONS, String(port));
  try {
    writeFileSync(file, String(process.pid), { flag: 'wx' });
    return true;
  } catch {
    try {
      if (Date.now() - statSync(file).mtimeMs < RESERVATION_TTL_MS) return false;
      writeFileSync(file, String(process.pid)); // stale: take it over, fresh again
      return true;
    } catch {
      return false;
    }
  }
}

/**
 * A free TCP port on the loopback interface, for a server that binds it a moment later: chosen at random below Linux's
 * ephemeral range (32768–60999), so no other test's `listen(0)` can be handed the same port in between, and reserved
 * across the test processes of the machine, so no two suites running at once pick the same one.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (reservePort(port) && (await isFree(port))) return port;
  }
}

export interface TestSubgraphOptions {
  /** Default: a free port. */
  port?: number;
  /** Where the other subgraphs are (billing for entitlements, tenancy for stores, …). */
  urls?: Partial<Record<SubgraphName, string>>;
  /** Resolve only once billing has taken this subgraph's feature declarations. */
  awaitFeatureRegistration?: boolean;
  /** SUBGRAPH_HMAC_SECRET: `_entities` only for signed requests (default: none, nothing asked for). */
  signatureSecret?: string;
}

/** A subgraph as a real HTTP server on a loopback port. */
export function startTestSubgraph<TContext extends RequestContext>(
  definition: SubgraphDefinition<TContext>,
  databaseUrl: string,
  options: TestSubgraphOptions = {},
): Promise<RunningSubgraph> {
  return startSubgraph(definition, {
    databaseUrl,
    port: options.port ?? 0,
    host: '127.0.0.1',
    auth: testAuth,
    logger: silentLogger,
    migrate: false,
    poolSize: 5,
    urls: options.urls,
    awaitFeatureRegistration: options.awaitFeatureRegistration,
    signatureSecret: options.signatureSecret,
  });
}

/**
 * A subgraph server without a database (runtime's own specs: a schema of their own behind the real server), tokens
 * checked with testAuth; `options` are the spec's own (the handler, the executor, the body limit, its context).
 */
export async function startBareSubgraphServer(options: Pick<SubgraphServerOptions<RequestContext>, 'schema'> & Partial<SubgraphServerOptions<any>>): Promise<RunningServer> {
  return startSubgraphServer({
    name: 'test',
    port: await freePort(),
    host: '127.0.0.1',
    dataSource: { isInitialized: false, query: async () => [] } as unknown as SubgraphServerOptions<RequestContext>['dataSource'],
    verifyToken: createTokenVerifier(testAuth),
    logger: silentLogger,
    introspection: false,
    buildContext: (base) => base,
    ...options,
  });
}

/**
 * Several subgraphs on one database, each knowing where the others are (ports are chosen first, so they can
 * start in any order), each resolving once its feature declarations are registered with billing. Signed as
 * `pnpm start` runs them: with TEST_SUBGRAPH_HMAC_SECRET (`_entities` only for signed requests; their internal calls
 * are signed) unless `signatureSecret` says otherwise (`null`: none).
 */
export async function startTestSubgraphs<N extends SubgraphName>(
  definitions: Record<N, SubgraphDefinition<any>>,
  databaseUrl: string,
  options: { signatureSecret?: string | null } = {},
): Promise<Record<N, RunningSubgraph>> {
  const signatureSecret = options.signatureSecret === null ? undefined : (options.signatureSecret ?? TEST_SUBGRAPH_HMAC_SECRET);
  const names = Object.keys(definitions) as N[];
  const ports = Object.fromEntries(await Promise.all(names.map(async (n) => [n, await freePort()] as const))) as Record<N, number>;
  const urls = Object.fromEntries(names.map((n) => [n, `http://127.0.0.1:${ports[n]}/graphql`])) as Partial<Record<SubgraphName, string>>;
  const started = await Promise.allSettled(
    names.map((n) => startTestSubgraph(definitions[n], databaseUrl, { port: ports[n], urls, awaitFeatureRegistration: 'billing' in definitions, signatureSecret })),
  );
  const running = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(running.map((s) => s.stop()));
    throw failed.reason;
  }
  return Object.fromEntries(names.map((n, i) => [n, running[i]])) as Record<N, RunningSubgraph>;
}

export * from './client';
export * from './world';
export * from './locks';
export * from './entities';
export * from './proxy';



/**
 * Records the SQL text of every statement sent through pg's Client in this process until `stop()`: TypeORM's query
 * runners and the loaders' prepared statements straight to the pool alike (a spy on TypeORM's PostgresQueryRunner
 * misses the latter). `subgraphsOnly` (default): only the subgraphs' connections (application_name tiergraph-…),
 * not the test's own clients nor pg-boss's.
 */
export function recordSqlStatements(options: { subgraphsOnly?: boolean } = {}): { statements: string[]; stop(): void } {
  const statements: string[] = [];
  const original = Client.prototype.query;
  const subgraphsOnly = options.subgraphsOnly ?? true;
  Client.prototype.query = function (this: Client, ...args: unknown[]) {
    const name = (this as unknown as { connectionParameters?: { application_name?: string } }).connectionParameters?.application_name ?? '';
    const config = args[0] as string | { text?: string } | undefined;
    if (!subgraphsOnly || name.startsWith('tiergraph-')) statements.push(typeof config === 'string' ? config : String(config?.text));
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof original;
  return { statements, stop: () => void (Client.prototype.query = original) };
}
