import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import {
  authEnvShape,
  DEFAULT_PORTS,
  parseEnvOrExit,
  portSchema,
  refuseDefaultSecretInProduction,
  STOP_DEADLINE_MS,
  STOP_WITH_PARENT_VAR,
  SUBGRAPH_NAMES,
  subgraphSignatureEnvShape,
  type SubgraphName,
} from '@tiergraph/runtime';
import { z } from 'zod';
import { assertPortFree, startEmbeddedPostgres, type EmbeddedPostgresHandle } from './lib/embedded-postgres';
import { migrateAll } from './lib/migrate';
import { semiSpaceEnvShape, semiSpaceFlags } from './lib/node-flags';
import { signalWhenWeDie } from './lib/watchdog';

const ROOT = resolve(__dirname, '..');

/** The gateway and the six subgraphs, as in DEFAULT_PORTS. */
type ServiceName = keyof typeof DEFAULT_PORTS;
const SERVICE_NAMES = Object.keys(DEFAULT_PORTS) as ServiceName[];
const portVar = (name: ServiceName) => `${name.toUpperCase() as Uppercase<ServiceName>}_PORT` as const;
const portShape = Object.fromEntries(SERVICE_NAMES.map((name) => [portVar(name), portSchema(DEFAULT_PORTS[name])])) as Record<
  `${Uppercase<ServiceName>}_PORT`,
  ReturnType<typeof portSchema>
>;

const startEnvSchema = refuseDefaultSecretInProduction(
  z.object({
    ...authEnvShape,
    DATABASE_URL: z.string().url().optional(),
    /** Unset: `.data` in the checkout, which the embedded PostgreSQL may move out of a private home (as root). */
    DATA_DIR: z.string().optional(),
    EMBEDDED_PG_PORT: portSchema(54329),
    STARTUP_TIMEOUT_MS: z.coerce.number().int().min(1000).default(60_000),
    /** Extra node flags for every service process, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" (not allowed in NODE_OPTIONS). */
    SERVICE_NODE_FLAGS: z.string().default(''),
    /** V8's young generation per service, MiB (0: V8's own): scripts/lib/node-flags.ts. */
    ...semiSpaceEnvShape,
    /** A service that crashes more often than this within RESTART_WINDOW_MS is given up on, and everything stops. */
    MAX_RESTARTS: z.coerce.number().int().min(0).default(5),
    RESTART_WINDOW_MS: z.coerce.number().int().min(1000).default(60_000),
    /** The gateway signs subgraph requests with it; unset: a random one for this start, handed to every service. */
    ...subgraphSignatureEnvShape,
    ...portShape,
  }),
);
type StartEnv = z.infer<typeof startEnvSchema>;

const isInside = (parent: string, path: string) => {
  const rel = relative(parent, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
};

const portOf = (env: StartEnv, name: ServiceName): number => env[portVar(name)];
const say = (line: string) => process.stdout.write(`[start]      ${line}\n`);
// A closed terminal (or a parent that stopped reading) must not crash the shutdown with EPIPE.
process.stdout.on('error', () => undefined);
process.stderr.on('error', () => undefined);

/** Delay before the n-th restart within the window: 0.5 s, 1 s, 2 s, 4 s, then 8 s. */
const restartDelay = (n: number) => Math.min(500 * 2 ** (n - 1), 8000);

/** Thrown by `launch` once shutdown has begun: nothing new starts while everything is being stopped. */
class ShuttingDown extends Error {}

/** Copies a child's output line by line, each behind its name. */
function prefixOutput(name: string, child: ChildProcess): void {
  const label = `[${name}]`.padEnd(12);
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream }).on('line', (line) => process.stdout.write(`${label} ${line}\n`));
  }
}

async function waitHealthy(name: string, url: string, child: ChildProcess, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${name} exited with ${child.signalCode ?? `code ${child.exitCode}`} before it was healthy`);
    }
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`${name} was not healthy at ${url} within the start-up timeout`);
}

/** The promise's value, or undefined once `ms` have passed. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((done) => (timer = setTimeout(() => done(undefined), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const hasExited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

/** Signals a child's whole process group (children are spawned detached, each leading its own group). */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // the group is gone already
  }
}

function stopChild(child: ChildProcess): Promise<void> {
  if (hasExited(child) || child.pid === undefined) return Promise.resolve();
  return new Promise((done) => {
    const killer = setTimeout(() => signalGroup(child, 'SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(killer);
      done();
    });
    signalGroup(child, 'SIGTERM');
  });
}

async function main(): Promise<void> {
  const started = Date.now();
  const env = parseEnvOrExit(startEnvSchema, process.env);
  const children = new Map<string, ChildProcess>();
  let postgres: EmbeddedPostgresHandle | undefined;
  /** The embedded PostgreSQL while it initialises and starts: a signal then must still stop it. */
  let postgresStarting: Promise<EmbeddedPostgresHandle> | undefined;
  let shuttingDown = false;

  const shutdown = async (code: number, reason: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    say(`stopping (${reason})`);
    await Promise.all([...children.values()].map(stopChild));
    if (!postgres && postgresStarting) {
      say('waiting for the embedded PostgreSQL to finish starting, to stop it');
      postgres = await within(postgresStarting.catch(() => undefined), env.STARTUP_TIMEOUT_MS);
      if (!postgres) say('the embedded PostgreSQL did not start; nothing to stop');
    }
    if (postgres) {
      // bounded: a server that ignores SIGINT must not hold the shutdown forever
      const stopped = await within(
        postgres.stop().then(
          () => true,
          (error) => (say(`embedded PostgreSQL did not stop cleanly: ${(error as Error).message}`), true),
        ),
        15_000,
      );
      say(stopped ? 'embedded PostgreSQL stopped' : 'embedded PostgreSQL did not confirm it stopped within 15 s');
    }
    process.exit(code);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (shuttingDown) say(`${signal}: already stopping (services first, then PostgreSQL)`);
    else void shutdown(0, signal);
  };
  // `on`, not `once`: a second Ctrl-C must not kill start.ts while the detached services still run.
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // the terminal closed: stop everything rather than leave it running, logging nowhere
  process.on('SIGHUP', onSignal);
  // Last resort (an uncaught error, process.exit elsewhere): the detached services must not outlive start.ts.
  process.on('exit', () => {
    for (const child of children.values()) if (!hasExited(child)) signalGroup(child, 'SIGKILL');
  });

  try {
    for (const name of SERVICE_NAMES) await assertPortFree(portOf(env, name), portVar(name));
    let databaseUrl = env.DATABASE_URL;
    if (!databaseUrl) {
      const dataRoot = resolve(ROOT, env.DATA_DIR ?? '.data');
      mkdirSync(dataRoot, { recursive: true });
      say(`starting embedded PostgreSQL on port ${env.EMBEDDED_PG_PORT}`);
      postgresStarting = startEmbeddedPostgres({
        dataDir: join(dataRoot, 'postgres'),
        port: env.EMBEDDED_PG_PORT,
        persistent: true,
        // Ctrl-C reaches start.ts only, which stops the services first and PostgreSQL last
        ownProcessGroup: true,
        // the checkout's own data folder may move where the postgres user can reach it; a folder the user chose may not
        relocate: isInside(ROOT, dataRoot),
        onNotice: say,
      });
      const handle = await postgresStarting;
      say(`embedded PostgreSQL is up (pid ${handle.pid}) with data in ${handle.dataDir}`);
      if (shuttingDown) return; // shutdown awaits the same promise and stops it
      postgres = handle;
      await postgres.createDatabase('tiergraph');
      databaseUrl = postgres.urlFor('tiergraph');
    }
    if (shuttingDown) return;
    say('applying migrations');
    await migrateAll(databaseUrl);
    if (shuttingDown) return;

    const deadline = started + env.STARTUP_TIMEOUT_MS;
    // Every child knows every port and every subgraph's URL: subgraphs call each other (entitlements and feature
    // registration on billing, stores on tenancy, products on catalog), the gateway calls them all.
    const urls = Object.fromEntries(
      SUBGRAPH_NAMES.map((name) => [`${name.toUpperCase()}_URL`, `http://127.0.0.1:${portOf(env, name)}/graphql`]),
    );
    const ports = Object.fromEntries(SERVICE_NAMES.map((name) => [portVar(name), String(portOf(env, name))]));
    const childEnv = {
      ...process.env,
      ...ports,
      ...urls,
      DATABASE_URL: databaseUrl,
      MIGRATE_ON_START: 'false',
      // the gateway and the subgraphs share it: subgraphs answer _entities only to requests signed with it
      SUBGRAPH_HMAC_SECRET: env.SUBGRAPH_HMAC_SECRET ?? randomBytes(32).toString('hex'),
      // each service stops by itself when start.ts is gone (it holds their standard input)
      [STOP_WITH_PARENT_VAR]: '1',
    };
    /** Once everything was healthy, a crashed service is restarted (with backoff) instead of stopping the stack. */
    let supervising = false;
    const crashes = new Map<ServiceName, number[]>();
    const waitFor = (name: ServiceName, child: ChildProcess, until = deadline) =>
      waitHealthy(name, `http://127.0.0.1:${portOf(env, name)}/health`, child, until);
    const restart = (name: ServiceName, entry: string, why: string) => {
      const now = Date.now();
      const recent = [...(crashes.get(name) ?? []), now].filter((at) => now - at < env.RESTART_WINDOW_MS);
      crashes.set(name, recent);
      if (recent.length > env.MAX_RESTARTS) {
        void shutdown(1, `${name} ${why}: ${recent.length} crashes within ${env.RESTART_WINDOW_MS / 1000} s (MAX_RESTARTS=${env.MAX_RESTARTS}), giving up`);
        return;
      }
      const delay = restartDelay(recent.length);
      say(`${name} ${why}; restarting it in ${delay} ms (crash ${recent.length} of at most ${env.MAX_RESTARTS} within ${env.RESTART_WINDOW_MS / 1000} s); the others keep serving`);
      setTimeout(() => {
        if (shuttingDown) return;
        const crashedAt = now;
        let child: ChildProcess;
        try {
          child = launch(name, entry);
        } catch (error) {
          if (!(error instanceof ShuttingDown)) say(`${name} could not be restarted: ${(error as Error).message}`);
          return;
        }
        waitFor(name, child, Date.now() + env.STARTUP_TIMEOUT_MS).then(
          () => say(`${name} is healthy again, ${((Date.now() - crashedAt) / 1000).toFixed(1)} s after the crash`),
          (error) => say(`${name} did not get healthy after its restart: ${(error as Error).message}`),
        );
      }, delay);
    };
    const nodeFlags = [...semiSpaceFlags(env.SERVICE_SEMI_SPACE_MB), ...env.SERVICE_NODE_FLAGS.split(/\s+/).filter(Boolean)];
    const launch = (name: ServiceName, entry: string) => {
      if (shuttingDown) throw new ShuttingDown();
      const child = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', entry], {
        cwd: ROOT,
        env: childEnv,
        // standard input: a pipe start.ts never writes to; its end closing tells the service start.ts is gone
        stdio: ['pipe', 'pipe', 'pipe'],
        // Its own process group: a terminal Ctrl-C reaches only start.ts, which stops the services, then PostgreSQL.
        detached: true,
      });
      children.set(name, child);
      prefixOutput(name, child);
      // If start.ts dies without stopping it, the closed standard input tells the service to stop itself; this
      // watcher outside it makes sure it does: SIGTERM, then SIGKILL once the service's own stop deadline is past.
      const watchdog = child.pid === undefined ? undefined : signalWhenWeDie(child.pid, { signal: 'TERM', group: true, killAfterS: STOP_DEADLINE_MS / 1000 + 2 });
      child.once('exit', (code, signal) => {
        watchdog?.release();
        if (shuttingDown) return;
        const why = `exited unexpectedly (${signal ?? `code ${code}`})`;
        if (supervising) restart(name, entry, why);
        else void shutdown(1, `${name} ${why}`);
      });
      say(`${name} started (pid ${child.pid})`);
      return child;
    };

    say('starting subgraphs');
    await Promise.all(
      SUBGRAPH_NAMES.map((name: SubgraphName) => waitFor(name, launch(name, join('subgraphs', name, 'src', 'main.ts')))),
    );
    // The gateway last: with GATEWAY_INTROSPECT_AND_COMPOSE it composes from the running subgraphs at start.
    say('subgraphs healthy; starting gateway');
    await waitFor('gateway', launch('gateway', join('gateway', 'src', 'main.ts')));
    if (shuttingDown) return;
    supervising = true;
    say(`tiergraph is healthy after ${((Date.now() - started) / 1000).toFixed(1)} s: http://localhost:${env.GATEWAY_PORT}/graphql`);
    say('try it: TOKEN=$(npx -y pnpm@10 -s token --role admin), then POST a query with "Authorization: Bearer $TOKEN" (see README). Ctrl-C stops everything.');
  } catch (error) {
    if (shuttingDown || error instanceof ShuttingDown) return;
    say(`failed to start: ${(error as Error).message}`);
    await shutdown(1, 'start-up failed');
  }
}

void main();
