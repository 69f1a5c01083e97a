import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/**
 * BENCH_PORT_OFFSET (default 0) moves every bench port (stack and peers), so two worktrees can bench at once on one
 * machine.
 */
export const BENCH_PORT_OFFSET = Number(process.env.BENCH_PORT_OFFSET ?? 0);
/** The bench stack's ports: beside the defaults (4000–4006, 54329), so a `pnpm start` can keep running. */
export const BENCH_PORTS = {
  EMBEDDED_PG_PORT: 54339 + BENCH_PORT_OFFSET,
  GATEWAY_PORT: 4100 + BENCH_PORT_OFFSET,
  BILLING_PORT: 4101 + BENCH_PORT_OFFSET,
  TENANCY_PORT: 4102 + BENCH_PORT_OFFSET,
  CATALOG_PORT: 4103 + BENCH_PORT_OFFSET,
  ORDERS_PORT: 4104 + BENCH_PORT_OFFSET,
  MEDIA_PORT: 4105 + BENCH_PORT_OFFSET,
  MONITORING_PORT: 4106 + BENCH_PORT_OFFSET,
} as const;
/** Relative to the repository root, as start.ts resolves DATA_DIR. */
export const BENCH_DATA_DIR = join('.data', 'bench');
/**
 * SUBGRAPH_HMAC_SECRET of the bench's stack, known to the peers in front of the same subgraphs (gateway B, Hive
 * Gateway's config), which sign their subgraph requests with it as tiergraph's gateway does.
 */
export const BENCH_SUBGRAPH_HMAC_SECRET = 'tiergraph-bench-subgraph-hmac-secret-local-only';
/**
 * The bench's JWT secret, new for every run: the stack runs with NODE_ENV=production as docker-compose does, and
 * production refuses the development default (the bench mints every token it sends with this one).
 */
export const BENCH_JWT_SECRET = `tiergraph-bench-${randomBytes(16).toString('hex')}`;

export const BENCH_DATABASE_URL = `postgres://postgres:postgres@127.0.0.1:${BENCH_PORTS.EMBEDDED_PG_PORT}/tiergraph`;
export const BENCH_GATEWAY = `http://127.0.0.1:${BENCH_PORTS.GATEWAY_PORT}`;

export interface RunningStack {
  logFile: string;
  /** start.ts: the services and PostgreSQL are its children (bench/procs.ts measures them). */
  pid: number;
  stop(): Promise<void>;
}

const lastLines = (file: string, n: number) => {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
  } catch {
    return '(no log)';
  }
};

/**
 * Starts the whole stack exactly as `pnpm start` does (scripts/start.ts: embedded PostgreSQL, migrations, six
 * subgraphs, gateway) on the bench ports and data directory; resolves once it prints "tiergraph is healthy".
 * Its output goes to <DATA_DIR>/stack.log; start.ts's own lines are echoed.
 */
export async function startStack(
  root: string,
  options: {
    secret: string;
    timeoutMs?: number;
    say: (line: string) => void;
    ports?: Record<keyof typeof BENCH_PORTS, number>;
    dataDir?: string;
    /** Extra variables for every service (an A/B arm's setting, e.g. AUTH_TOKEN_CACHE_SIZE=0). */
    env?: Record<string, string>;
  },
): Promise<RunningStack> {
  const ports = options.ports ?? BENCH_PORTS;
  const relativeDataDir = options.dataDir ?? BENCH_DATA_DIR;
  const dataDir = join(root, relativeDataDir);
  mkdirSync(dataDir, { recursive: true });
  const logFile = join(dataDir, 'stack.log');
  const log = createWriteStream(logFile, { flags: 'a' });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // as deployed (docker-compose.yml): graphql-js skips its development checks, production settings apply;
    // `--ab-env NODE_ENV=development` measures the difference
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    AUTH_JWT_SECRET: options.secret,
    SUBGRAPH_HMAC_SECRET: BENCH_SUBGRAPH_HMAC_SECRET,
    DATA_DIR: relativeDataDir,
    ...Object.fromEntries(Object.entries(ports).map(([name, port]) => [name, String(port)])),
    ...options.env,
  };
  // the embedded PostgreSQL, always; start.ts derives every <NAME>_URL from the ports
  delete env.DATABASE_URL;
  for (const name of ['BILLING', 'TENANCY', 'CATALOG', 'ORDERS', 'MEDIA', 'MONITORING']) delete env[`${name}_URL`];

  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', join('scripts', 'start.ts')], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the stack was not healthy within ${(options.timeoutMs ?? 180_000) / 1000} s`)), options.timeoutMs ?? 180_000);
    const onLine = (line: string) => {
      log.write(`${line}\n`);
      if (line.startsWith('[start]')) options.say(`  ${line}`);
      if (line.includes('tiergraph is healthy')) {
        clearTimeout(timer);
        resolve();
      }
    };
    for (const stream of [child.stdout!, child.stderr!]) createInterface({ input: stream }).on('line', onLine);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`scripts/start.ts exited (${signal ?? `code ${code}`}) before the stack was healthy; last lines of ${logFile}:\n${lastLines(logFile, 30)}`));
    });
  }).catch(async (error: Error) => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    throw error;
  });

  let stopping: Promise<void> | undefined;
  return {
    logFile,
    pid: child.pid!,
    stop: () =>
      (stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        // start.ts stops the services, then PostgreSQL, then exits; SIGKILL only if it hangs (its exit hook
        // then kills the service groups it started).
        const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
        child.kill('SIGTERM');
        await exited;
        clearTimeout(killer);
        log.end();
      })()),
  };
}
