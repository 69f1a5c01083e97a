import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_PORTS } from '@tiergraph/runtime';
import { eventually as readUntil, freePort, TEST_JWT_SECRET } from '@tiergraph/testkit';

/** `pnpm start` run by the tests: the process, what it printed so far, and its exit. */
export interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

export const ROOT = join(__dirname, '..', '..');
export const SERVICES = Object.keys(DEFAULT_PORTS) as Array<keyof typeof DEFAULT_PORTS>;

/** Every system started and not yet seen exiting: `killAll` in an afterAll, also when a test timed out. */
const running = new Set<Started>();

/**
 * Runs `node --import tsx <args>` in `cwd` (by default `scripts/start.ts` in this checkout) as a user would, on the
 * test secret and without DATABASE_URL, in a process group of its own so that a failing test can kill all of it.
 */
export function startSystem(env: Record<string, string>, options: { cwd?: string; args?: string[] } = {}): Started {
  let output = '';
  const child = spawn(process.execPath, ['--import', 'tsx', ...(options.args ?? ['scripts/start.ts'])], {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, AUTH_JWT_SECRET: TEST_JWT_SECRET, NODE_ENV: 'development', LOG_LEVEL: 'warn', DATABASE_URL: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const started: Started = { child, output: () => output, exited: Promise.resolve(null) };
  started.exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      running.delete(started);
      resolve(code);
    }),
  );
  running.add(started);
  return started;
}

/** The pids start.ts reported: every service it started (restarts included) and the embedded PostgreSQL. */
export function reportedPids(started: Started): number[] {
  const output = started.output();
  return [
    ...[...output.matchAll(/\[start\]\s+\w+ started \(pid (\d+)\)/g)].map((m) => Number(m[1])),
    ...[...output.matchAll(/embedded PostgreSQL is up \(pid (\d+)\)/g)].map((m) => Number(m[1])),
  ];
}

/** What a process is and what it waits on (from /proc), for a failure message: `pid 123 (node …/billing…, S, wchan ep_poll)`. */
export function describeProcess(pid: number): string {
  const read = (file: string) => {
    try {
      return readFileSync(`/proc/${pid}/${file}`, 'utf8');
    } catch {
      return '';
    }
  };
  const status = read('status');
  // a zombie has no command line left: its name then
  const command = read('cmdline').split('\0').filter(Boolean).join(' ').slice(0, 160) || status.match(/^Name:\s+(.*)$/m)?.[1];
  const state = status.match(/^State:\s+(.*)$/m)?.[1] ?? 'gone';
  // what each thread waits in (a stuck main thread and a busy worker look alike from outside otherwise)
  let threads: string[] = [];
  try {
    threads = readdirSync(`/proc/${pid}/task`).map((tid) => read(`task/${tid}/wchan`) || '?');
  } catch {
    // gone
  }
  return `pid ${pid} (${command || 'unknown'}; state ${state}; wchan ${read('wchan') || '?'}; its threads wait in: ${threads.join(', ') || '?'})`;
}

/**
 * Whether the process still runs. A zombie does not: it has exited and waits only for its parent to collect it. An
 * orphan's parent is init, which here collects its zombies in batches, 1–3 s after the exit even on an idle machine.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  if (!existsSync('/proc/self/status')) return true; // no /proc (macOS): a zombie counts as alive there
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    // a zombie leader whose other threads still exit may still hold its sockets: gone once it is the last thread
    return !(/^State:\s+Z/m.test(status) && /^Threads:\s+1$/m.test(status));
  } catch {
    return false; // gone between the two looks
  }
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** SIGKILLs start.ts's process group and the group of every process it reported (each runs in a group of its own). */
export async function kill(started: Started): Promise<void> {
  const pids = reportedPids(started);
  if (started.child.exitCode === null && started.child.signalCode === null) {
    killGroup(started.child.pid);
    await started.exited;
  }
  for (const pid of pids) killGroup(pid);
}

export async function killAll(): Promise<void> {
  await Promise.all([...running].map(kill));
}

/** Runs `use` against a started system; if it fails, the whole system is killed so nothing is left running. */
export async function withSystem<T>(env: Record<string, string>, use: (started: Started) => Promise<T>): Promise<T> {
  const started = startSystem(env);
  let ok = false;
  try {
    const result = await use(started);
    ok = true;
    return result;
  } finally {
    if (!ok) await kill(started);
  }
}

export async function waitFor(started: Started, pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const match = started.output().match(pattern);
    if (match) return match;
    if (started.child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`did not see ${pattern} within ${timeoutMs} ms; output:\n${started.output()}`);
}

/** Polls until `check` holds (the test kit's `eventually`), or throws after `timeoutMs` naming `what`. */
export async function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  await readUntil(async () => check(), (held) => held, timeoutMs).catch(() => {
    throw new Error(`${what}: not within ${timeoutMs} ms`);
  });
}

export function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

/**
 * Free ports for the embedded PostgreSQL and every service, all different (the test kit's freePort: below the
 * ephemeral range, so the seconds until a service binds its port are no race with other tests' `listen(0)`).
 */
export async function freePorts(): Promise<Record<string, string>> {
  const taken = new Set<number>();
  const distinct = async (): Promise<string> => {
    for (;;) {
      const port = await freePort();
      if (!taken.has(port)) return String(taken.add(port) && port);
    }
  };
  const env: Record<string, string> = { EMBEDDED_PG_PORT: await distinct() };
  for (const service of SERVICES) env[`${service.toUpperCase()}_PORT`] = await distinct();
  return env;
}

/** Free ports and a temporary DATA_DIR the postgres user can reach. */
export async function freshEnv(): Promise<Record<string, string>> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tiergraph-start-'));
  chmodSync(dataDir, 0o755);
  return { DATA_DIR: dataDir, ...(await freePorts()) };
}
