import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_PORTS } from '@tiergraph/runtime';
import { postGraphQL, TEST_JWT_SECRET, tokenFor } from '@tiergraph/testkit';
import { freePort } from '../lib/embedded-postgres';

const ROOT = join(__dirname, '..', '..');
const SERVICES = Object.keys(DEFAULT_PORTS).map((name) => name.toUpperCase());

const SUBGRAPHS = SERVICES.map((s) => s.toLowerCase()).filter((name) => name !== 'gateway');

/** Which markers the output lacks, and which appear before the marker listed ahead of them. */
function markerOrder(output: string, markers: RegExp[]): { missing: string[]; outOfOrder: string[] } {
  const positions = markers.map((marker) => output.search(marker));
  return {
    missing: markers.filter((_, i) => positions[i] < 0).map(String),
    outOfOrder: markers.filter((_, i) => i > 0 && positions[i] >= 0 && positions[i] < Math.max(...positions.slice(0, i))).map(String),
  };
}

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Every system a test started and has not seen exit: killed in afterAll even when a test timed out. */
const running = new Set<Started>();

/** `pnpm start` as a user runs it, but on free ports and a temporary DATA_DIR. */
function startSystem(env: Record<string, string>): Started {
  let output = '';
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
    cwd: ROOT,
    env: { ...process.env, AUTH_JWT_SECRET: TEST_JWT_SECRET, NODE_ENV: 'development', LOG_LEVEL: 'warn', DATABASE_URL: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // its own process group (with the embedded PostgreSQL in it), so that a failing test can kill all of it
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

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/**
 * SIGKILLs start.ts's process group (start.ts and the embedded PostgreSQL) and the group of every service it
 * reported starting (the services run detached, in groups of their own).
 */
async function kill(started: Started): Promise<void> {
  const childPids = [...started.output().matchAll(/\[start\]\s+\w+ started \(pid (\d+)\)/g)].map((m) => Number(m[1]));
  if (started.child.exitCode === null && started.child.signalCode === null) {
    killGroup(started.child.pid);
    for (const pid of childPids) killGroup(pid);
    await started.exited;
  }
}

/** Runs `use` against a started system; if it fails, the whole system is killed so nothing is left running. */
async function withSystem<T>(env: Record<string, string>, use: (started: Started) => Promise<T>): Promise<T> {
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

afterAll(async () => {
  await Promise.all([...running].map(kill));
});

async function waitFor(started: Started, pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const match = started.output().match(pattern);
    if (match) return match;
    if (started.child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`did not see ${pattern} within ${timeoutMs} ms; output:\n${started.output()}`);
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

async function freshEnv(): Promise<Record<string, string>> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tiergraph-start-'));
  chmodSync(dataDir, 0o755);
  const env: Record<string, string> = { DATA_DIR: dataDir, EMBEDDED_PG_PORT: String(await freePort()) };
  for (const service of SERVICES) env[`${service}_PORT`] = String(await freePort());
  return env;
}

describe('pnpm start (embedded default)', () => {
  it('gets healthy (subgraphs first, then the gateway), serves the graph, stops cleanly on SIGTERM and keeps its data across restarts', async () => {
    const env = await freshEnv();
    const gateway = `http://127.0.0.1:${env.GATEWAY_PORT}`;
    const admin = await tokenFor({ role: 'admin' });

    await withSystem(env, async (first) => {
      const [, seconds] = await waitFor(first, /tiergraph is healthy after ([\d.]+) s/, 60_000);
      // how long is a benchmark's question (bench/), not an assertion here: print it
      console.log(`pnpm start: healthy after ${seconds} s`);
      // the gateway starts only once every subgraph is healthy: every marker present, in this order
      expect(markerOrder(first.output(), [
        ...SUBGRAPHS.map((name) => new RegExp(`\\[start\\]\\s+${name} started \\(pid \\d+\\)`)),
        /\[start\]\s+subgraphs healthy; starting gateway/,
        /\[start\]\s+gateway started \(pid \d+\)/,
        /\[start\]\s+tiergraph is healthy after/,
      ])).toEqual({ missing: [], outOfOrder: [] });
      expect((await fetch(`${gateway}/health`)).status).toBe(200);
      const created = await postGraphQL(
        `${gateway}/graphql`,
        { query: 'mutation { createPlatform(input: { code: "persisted", name: "P" }) { code } }' },
        { token: admin },
      );
      expect(created.data).toEqual({ createPlatform: { code: 'persisted' } });
      first.child.kill('SIGTERM');
      expect(await first.exited).toBe(0);
      expect(first.output()).toContain('embedded PostgreSQL stopped');
      expect(await portAnswers(Number(env.EMBEDDED_PG_PORT))).toBe(false);
      expect(await portAnswers(Number(env.GATEWAY_PORT))).toBe(false);
      expect(await portAnswers(Number(env.BILLING_PORT))).toBe(false);
    });

    await withSystem(env, async (second) => {
      await waitFor(second, /tiergraph is healthy/, 60_000);
      const platforms = await postGraphQL(`${gateway}/graphql`, { query: '{ platforms { code } }' }, { token: admin });
      expect(platforms.data).toEqual({ platforms: [{ code: 'persisted' }] });
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
      expect(await portAnswers(Number(env.EMBEDDED_PG_PORT))).toBe(false);
    });
  }, 150_000);

  it('stops the embedded PostgreSQL when SIGTERM arrives while it is still starting', async () => {
    const env = await freshEnv();
    await withSystem(env, async (started) => {
      await waitFor(started, /starting embedded PostgreSQL/, 30_000);
      started.child.kill('SIGTERM');
      expect(await started.exited).toBe(0);
      expect(started.output()).toContain('embedded PostgreSQL stopped');
      expect(started.output()).not.toContain('tiergraph is healthy');
      expect(started.output()).not.toMatch(/\w+ started \(pid \d+\)/);
      expect(await portAnswers(Number(env.EMBEDDED_PG_PORT))).toBe(false);
      // and nothing comes up later (no orphaned server finishing its start)
      await new Promise((r) => setTimeout(r, 1000));
      expect(await portAnswers(Number(env.EMBEDDED_PG_PORT))).toBe(false);
    });
  }, 90_000);

  it('fails with a clear message, starting nothing, when a port is taken', async () => {
    const env = await freshEnv();
    const blocker = net.createServer().listen(Number(env.TENANCY_PORT), '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    try {
      await withSystem(env, async (started) => {
        expect(await started.exited).toBe(1);
        expect(started.output()).toContain(`port ${env.TENANCY_PORT} (TENANCY_PORT) is already in use`);
        expect(await portAnswers(Number(env.EMBEDDED_PG_PORT))).toBe(false);
      });
    } finally {
      blocker.close();
    }
  });

  it('refuses the development secret with NODE_ENV=production, naming the variable', async () => {
    await withSystem({ ...(await freshEnv()), NODE_ENV: 'production', AUTH_JWT_SECRET: 'dev-only-secret-change-me' }, async (started) => {
      expect(await started.exited).toBe(1);
      expect(started.output()).toMatch(/AUTH_JWT_SECRET: the development default secret cannot be used with NODE_ENV=production/);
    });
  });
});
