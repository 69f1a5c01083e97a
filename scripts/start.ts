import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import {
  authEnvShape,
  DEFAULT_PORTS,
  parseEnvOrExit,
  portSchema,
  refuseDefaultSecretInProduction,
  SUBGRAPH_NAMES,
  type SubgraphName,
} from '@tiergraph/runtime';
import { z } from 'zod';
import { assertPortFree, startEmbeddedPostgres, type EmbeddedPostgresHandle } from './lib/embedded-postgres';
import { migrateAll } from './lib/migrate';

const ROOT = resolve(__dirname, '..');

const startEnvSchema = refuseDefaultSecretInProduction(
  z.object({
    ...authEnvShape,
    DATABASE_URL: z.string().url().optional(),
    DATA_DIR: z.string().default('.data'),
    EMBEDDED_PG_PORT: portSchema(54329),
    STARTUP_TIMEOUT_MS: z.coerce.number().int().min(1000).default(60_000),
    GATEWAY_PORT: portSchema(DEFAULT_PORTS.gateway),
    BILLING_PORT: portSchema(DEFAULT_PORTS.billing),
    TENANCY_PORT: portSchema(DEFAULT_PORTS.tenancy),
    CATALOG_PORT: portSchema(DEFAULT_PORTS.catalog),
    ORDERS_PORT: portSchema(DEFAULT_PORTS.orders),
    MEDIA_PORT: portSchema(DEFAULT_PORTS.media),
    MONITORING_PORT: portSchema(DEFAULT_PORTS.monitoring),
  }),
);
type StartEnv = z.infer<typeof startEnvSchema>;

const portOf = (env: StartEnv, name: SubgraphName | 'gateway') => env[`${name.toUpperCase()}_PORT` as keyof StartEnv] as number;
const say = (line: string) => process.stdout.write(`[start]      ${line}\n`);

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
    if (child.exitCode !== null) throw new Error(`${name} exited with code ${child.exitCode} before it was healthy`);
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

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(killer);
      done();
    });
    child.kill('SIGTERM');
  });
}

async function main(): Promise<void> {
  const started = Date.now();
  const env = parseEnvOrExit(startEnvSchema, process.env);
  const children = new Map<string, ChildProcess>();
  let postgres: EmbeddedPostgresHandle | undefined;
  let shuttingDown = false;

  const shutdown = async (code: number, reason: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    say(`stopping (${reason})`);
    await Promise.all([...children.values()].map(stopChild));
    if (postgres) {
      await postgres.stop().catch((error) => say(`embedded PostgreSQL did not stop cleanly: ${(error as Error).message}`));
      say('embedded PostgreSQL stopped');
    }
    process.exit(code);
  };
  process.once('SIGINT', () => void shutdown(0, 'SIGINT'));
  process.once('SIGTERM', () => void shutdown(0, 'SIGTERM'));

  try {
    for (const name of [...SUBGRAPH_NAMES, 'gateway'] as const) {
      await assertPortFree(portOf(env, name), `${name.toUpperCase()}_PORT`);
    }
    let databaseUrl = env.DATABASE_URL;
    if (!databaseUrl) {
      const dataDir = resolve(ROOT, env.DATA_DIR, 'postgres');
      mkdirSync(resolve(ROOT, env.DATA_DIR), { recursive: true });
      say(`starting embedded PostgreSQL on port ${env.EMBEDDED_PG_PORT} with data in ${dataDir}`);
      postgres = await startEmbeddedPostgres({ dataDir, port: env.EMBEDDED_PG_PORT, persistent: true });
      await postgres.createDatabase('tiergraph');
      databaseUrl = postgres.urlFor('tiergraph');
    }
    say('applying migrations');
    await migrateAll(databaseUrl);

    const deadline = started + env.STARTUP_TIMEOUT_MS;
    const childEnv = { ...process.env, DATABASE_URL: databaseUrl, MIGRATE_ON_START: 'false' };
    const launch = (name: string, entry: string, extraEnv: Record<string, string>) => {
      const child = spawn(process.execPath, ['--import', 'tsx', entry], {
        cwd: ROOT,
        env: { ...childEnv, ...extraEnv },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.set(name, child);
      prefixOutput(name, child);
      child.once('exit', (code, signal) => {
        if (!shuttingDown) void shutdown(1, `${name} exited unexpectedly (${signal ?? `code ${code}`})`);
      });
      return child;
    };

    // The gateway loads the static supergraph and needs no subgraph to boot, so all seven start at once;
    // it reports healthy only when every subgraph answers.
    say('starting subgraphs and gateway');
    const urls = Object.fromEntries(
      SUBGRAPH_NAMES.map((name) => [`${name.toUpperCase()}_URL`, `http://127.0.0.1:${portOf(env, name)}/graphql`]),
    );
    const gateway = launch('gateway', join('gateway', 'src', 'main.ts'), { ...urls, GATEWAY_PORT: String(env.GATEWAY_PORT) });
    await Promise.all(
      SUBGRAPH_NAMES.map((name) => {
        const port = portOf(env, name);
        const child = launch(name, join('subgraphs', name, 'src', 'main.ts'), { [`${name.toUpperCase()}_PORT`]: String(port) });
        return waitHealthy(name, `http://127.0.0.1:${port}/health`, child, deadline);
      }),
    );
    await waitHealthy('gateway', `http://127.0.0.1:${env.GATEWAY_PORT}/health`, gateway, deadline);
    say(`tiergraph is healthy after ${((Date.now() - started) / 1000).toFixed(1)} s: http://localhost:${env.GATEWAY_PORT}/graphql`);
    say('try it: TOKEN=$(pnpm -s token --role admin), then POST a query with "Authorization: Bearer $TOKEN" (see README). Ctrl-C stops everything.');
  } catch (error) {
    say(`failed to start: ${(error as Error).message}`);
    await shutdown(1, 'start-up failed');
  }
}

void main();
