import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postGraphQL, TEST_JWT_SECRET, tokenFor } from '@tiergraph/testkit';
import { freePort } from '../lib/embedded-postgres';

const ROOT = join(__dirname, '..', '..');
const SERVICES = ['GATEWAY', 'BILLING', 'TENANCY', 'CATALOG', 'ORDERS', 'MEDIA', 'MONITORING'] as const;

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** `pnpm start` as a user runs it, but on free ports and a temporary DATA_DIR. */
function startSystem(env: Record<string, string>): Started {
  let output = '';
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
    cwd: ROOT,
    env: { ...process.env, AUTH_JWT_SECRET: TEST_JWT_SECRET, NODE_ENV: 'development', LOG_LEVEL: 'warn', DATABASE_URL: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function waitFor(started: Started, pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const match = started.output().match(pattern);
    if (match) return match;
    if (started.child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
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
  it('gets healthy, serves the graph, stops cleanly on SIGTERM and keeps its data across restarts', async () => {
    const env = await freshEnv();
    const gateway = `http://127.0.0.1:${env.GATEWAY_PORT}`;
    const admin = await tokenFor({ role: 'admin' });

    const first = startSystem(env);
    await waitFor(first, /tiergraph is healthy after ([\d.]+) s/, 60_000);
    expect((await fetch(`${gateway}/health`)).status).toBe(200);
    const created = await postGraphQL(`${gateway}/graphql`, { query: 'mutation { createPlatform(input: { code: "persisted", name: "P" }) { code } }' }, { token: admin });
    expect(created.data).toEqual({ createPlatform: { code: 'persisted' } });
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(first.output()).toContain('embedded PostgreSQL stopped');
    expect(await portAnswers(Number(env.EMBEDDED_PG_PORT))).toBe(false);
    expect(await portAnswers(Number(env.GATEWAY_PORT))).toBe(false);

    const second = startSystem(env);
    await waitFor(second, /tiergraph is healthy/, 60_000);
    const platforms = await postGraphQL(`${gateway}/graphql`, { query: '{ platforms { code } }' }, { token: admin });
    expect(platforms.data).toEqual({ platforms: [{ code: 'persisted' }] });
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(await portAnswers(Number(env.EMBEDDED_PG_PORT))).toBe(false);
  });

  it('fails with a clear message, starting nothing, when a port is taken', async () => {
    const env = await freshEnv();
    const blocker = net.createServer().listen(Number(env.TENANCY_PORT), '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    try {
      const started = startSystem(env);
      expect(await started.exited).toBe(1);
      expect(started.output()).toContain(`port ${env.TENANCY_PORT} (TENANCY_PORT) is already in use`);
      expect(await portAnswers(Number(env.EMBEDDED_PG_PORT))).toBe(false);
    } finally {
      blocker.close();
    }
  });

  it('refuses the development secret with NODE_ENV=production, naming the variable', async () => {
    const started = startSystem({ ...(await freshEnv()), NODE_ENV: 'production', AUTH_JWT_SECRET: 'dev-only-secret-change-me' });
    expect(await started.exited).toBe(1);
    expect(started.output()).toMatch(/AUTH_JWT_SECRET: the development default secret cannot be used with NODE_ENV=production/);
  });
});
