/**
 * Side by side in one run (issue 12): MerchantFeatures against several arms — tiergraph's gateway, the monolith
 * bound (bench/monolith.ts), Hive Gateway on the same subgraphs, or tiergraph with one setting changed — alternated
 * A/B/A/B so that the machine's noise hits every arm alike. Every slice: warm-up until the throughput is stable (an
 * arm's state can decay between its slices: the response cache's entries expire after 60 s, longer than the other arms'
 * slices take), then a measured slice with CPU per process (bench/procs.ts) and SQL statements
 * (bench/sql-stats.ts) divided by the requests sent.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkMerchantFeatures, percentile, runMerchantFeatures, type LoadResult, type MerchantKey } from './load';
import { cpuDelta, cpuSnapshot, type CpuSnapshot, type Processes } from './procs';
import type { SqlStats } from './sql-stats';
import { parseEnv } from '@tiergraph/runtime';
import { z } from 'zod';
import { semiSpaceEnvShape, semiSpaceFlags } from '../scripts/lib/node-flags';
import { BENCH_DATABASE_URL, BENCH_PORT_OFFSET, BENCH_PORTS, BENCH_SUBGRAPH_HMAC_SECRET } from './stack';

export interface Arm {
  /** Shown in the tables: 'tiergraph', 'monolith', 'hive', 'tiergraph AUTH_TOKEN_CACHE_SIZE=0' … */
  name: string;
  url: string;
  /** Settings the whole stack must run with for this arm (a restart when they differ from the running stack's). */
  stackEnv?: Record<string, string>;
}

export interface Slice {
  arm: string;
  round: number;
  warmup: { seconds: number; stable: boolean; windows: number[] };
  load: LoadResult;
  cpuMs: CpuSnapshot;
  statements: number;
  rowsRead: number;
  loadAverage: number[];
}

export interface ArmSummary {
  arm: string;
  slices: number;
  sent: number;
  completed: number;
  requestsPerSecond: number;
  perRoundRequestsPerSecond: number[];
  p50: number;
  p95: number;
  p99: number;
  errors: number;
  /** CPU ms per request sent, per process, plus 'total' (everything but the bench itself). */
  cpuPerRequest: Record<string, number>;
  statementsPerRequest: number;
  rowsReadPerRequest: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ───────────── peers the bench starts beside the stack ─────────────

export interface Peer {
  name: string;
  pid: number;
  url: string;
  stop(): Promise<void>;
}

function spawnPeer(root: string, name: string, url: string, command: string, args: string[], env: NodeJS.ProcessEnv, logFile: string): Peer {
  const log = createWriteStream(logFile, { flags: 'a' });
  // its own process group, so stopping it stops whatever it runs (the pnpm bin shim runs node under sh)
  const child: ChildProcess = spawn(command, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  return {
    name,
    pid: child.pid!,
    url,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        return;
      }
      const killer = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // gone
        }
      }, 10_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

/** Resolves once `url` answers anything over HTTP (the caller then checks the answers themselves). */
async function waitListening(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}', signal: AbortSignal.timeout(1000) });
      return;
    } catch {
      await sleep(250);
    }
  }
  throw new Error(`nothing answered at ${url} within ${timeoutMs / 1000} s`);
}

/**
 * The peers' node processes get the young generation the stack's services get as started (scripts/lib/node-flags.ts,
 * read as start.ts reads it); an --ab-env arm that changes it changes the stack only.
 */
const PEER_NODE_FLAGS = semiSpaceFlags(parseEnv(z.object(semiSpaceEnvShape), process.env).SERVICE_SEMI_SPACE_MB);

export const PEER_PORTS = { gatewayB: 4110 + BENCH_PORT_OFFSET, hive: 4120 + BENCH_PORT_OFFSET, monolith: 4130 + BENCH_PORT_OFFSET } as const;

export async function startMonolithPeer(root: string, databaseUrl: string, dataDir: string, pool: number): Promise<Peer> {
  const url = `http://127.0.0.1:${PEER_PORTS.monolith}/graphql`;
  const peer = spawnPeer(
    root,
    'monolith',
    url,
    process.execPath,
    [...PEER_NODE_FLAGS, '--import', 'tsx', join('bench', 'monolith.ts')],
    { ...process.env, DATABASE_URL: databaseUrl, MONOLITH_PORT: String(PEER_PORTS.monolith), MONOLITH_POOL: String(pool) },
    join(root, dataDir, 'monolith.log'),
  );
  await waitListening(url, 30_000);
  return peer;
}

/** Hive Gateway on the committed supergraph, its subgraph URLs moved to the bench's ports. */
export async function startHivePeer(root: string, dataDir: string): Promise<Peer> {
  const supergraph = join(root, dataDir, 'supergraph-bench.graphql');
  const defaults: Record<string, number> = { '4001': BENCH_PORTS.BILLING_PORT, '4002': BENCH_PORTS.TENANCY_PORT, '4003': BENCH_PORTS.CATALOG_PORT, '4004': BENCH_PORTS.ORDERS_PORT, '4005': BENCH_PORTS.MEDIA_PORT, '4006': BENCH_PORTS.MONITORING_PORT };
  const sdl = readFileSync(join(root, 'schema', 'supergraph.graphql'), 'utf8').replace(
    /url: "http:\/\/(?:127\.0\.0\.1|localhost):(400[1-6])\/graphql"/g,
    (_m, port: string) => `url: "http://127.0.0.1:${defaults[port]}/graphql"`,
  );
  writeFileSync(supergraph, sdl);
  const url = `http://127.0.0.1:${PEER_PORTS.hive}/graphql`;
  const peer = spawnPeer(
    root,
    'hive',
    url,
    join(root, 'node_modules', '.bin', 'hive-gateway'),
    ['supergraph', supergraph, '-c', join('bench', 'hive-gateway.config.mjs'), '-p', String(PEER_PORTS.hive), '-h', '127.0.0.1'],
    // a node script: its flags through NODE_OPTIONS
    { ...process.env, NODE_ENV: 'production', SUBGRAPH_HMAC_SECRET: BENCH_SUBGRAPH_HMAC_SECRET, NODE_OPTIONS: [process.env.NODE_OPTIONS, ...PEER_NODE_FLAGS].filter(Boolean).join(' ') },
    join(root, dataDir, 'hive-gateway.log'),
  );
  await waitListening(url, 60_000);
  return peer;
}

/** A second tiergraph gateway in front of the same subgraphs, with `env` changed (A/B of a gateway setting). */
export async function startGatewayPeer(root: string, dataDir: string, secret: string, env: Record<string, string>): Promise<Peer> {
  const url = `http://127.0.0.1:${PEER_PORTS.gatewayB}/graphql`;
  const subgraphs = { BILLING: BENCH_PORTS.BILLING_PORT, TENANCY: BENCH_PORTS.TENANCY_PORT, CATALOG: BENCH_PORTS.CATALOG_PORT, ORDERS: BENCH_PORTS.ORDERS_PORT, MEDIA: BENCH_PORTS.MEDIA_PORT, MONITORING: BENCH_PORTS.MONITORING_PORT };
  const peer = spawnPeer(
    root,
    'gateway B',
    url,
    process.execPath,
    [...PEER_NODE_FLAGS, '--import', 'tsx', join('gateway', 'src', 'main.ts')],
    {
      ...process.env,
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      AUTH_JWT_SECRET: secret,
      SUBGRAPH_HMAC_SECRET: BENCH_SUBGRAPH_HMAC_SECRET,
      GATEWAY_PORT: String(PEER_PORTS.gatewayB),
      GATEWAY_HOST: '127.0.0.1',
      // GATEWAY_RESPONSE_CACHE=on LISTENs on the bench database
      DATABASE_URL: BENCH_DATABASE_URL,
      ...Object.fromEntries(Object.entries(subgraphs).map(([name, port]) => [`${name}_URL`, `http://127.0.0.1:${port}/graphql`])),
      ...env,
    },
    join(root, dataDir, 'gateway-b.log'),
  );
  await waitListening(url, 60_000);
  return peer;
}

// ───────────── the alternation ─────────────

/**
 * Waits until the measured processes are idle (under 50 ms of CPU in 500 ms, all together): the requests the load
 * generator left in flight have been answered. At most `maxMs`.
 */
export async function waitIdle(processes: Processes, maxMs = 20_000): Promise<number> {
  const started = Date.now();
  const busy = (a: CpuSnapshot, b: CpuSnapshot) => Object.keys(b).filter((n) => n !== 'bench').reduce((sum, n) => sum + b[n] - (a[n] ?? 0), 0);
  let last = cpuSnapshot(processes);
  while (Date.now() - started < maxMs) {
    await sleep(500);
    const now = cpuSnapshot(processes);
    if (busy(last, now) < 50) break;
    last = now;
  }
  return Date.now() - started;
}

/** The arm's answers for one merchant of each tier, byte for byte the reference arm's (tiergraph's), or the difference. */
export async function sameAnswers(reference: string, arm: string, token: string, query: string, merchants: MerchantKey[]): Promise<string | null> {
  for (const tier of ['essential', 'professional', 'business', 'enterprise']) {
    const merchant = merchants.find((m) => m.tierCode === tier);
    if (!merchant) continue;
    const body = JSON.stringify({ operationName: 'MerchantFeatures', query, variables: { merchantId: merchant.merchantId, platformId: merchant.platformId } });
    const ask = async (url: string) =>
      (await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body })).text();
    const [a, b] = [await ask(reference), await ask(arm)];
    const problem = checkMerchantFeatures(b);
    if (problem) return `${tier}: ${problem}: ${b.slice(0, 500)}`;
    if (JSON.stringify(JSON.parse(a)) !== JSON.stringify(JSON.parse(b))) return `${tier}: the answer differs from ${reference}'s:\n  ${a.slice(0, 800)}\n  ${b.slice(0, 800)}`;
  }
  return null;
}

export interface AlternationOptions {
  arms: Arm[];
  rounds: number;
  sliceS: number;
  /**
   * Every warm-up runs until stable or this long: at least 10 s the first time for an arm (or after a restart), at
   * least `rewarmS` later (and four 2-second windows in any case).
   */
  warmMaxS: number;
  rewarmS: number;
  connections: number;
  token: string;
  query: string;
  merchants: MerchantKey[];
  /** Makes the stack run with `env` (restarting it when it runs with other settings); true when it restarted. */
  ensureStack: (env: Record<string, string>) => Promise<boolean>;
  processes: () => Processes;
  sql: () => SqlStats;
  say: (line: string) => void;
}

export async function alternate(options: AlternationOptions): Promise<Slice[]> {
  const slices: Slice[] = [];
  const warmed = new Set<string>();
  for (let round = 1; round <= options.rounds; round++) {
    for (const arm of options.arms) {
      if (await options.ensureStack(arm.stackEnv ?? {})) warmed.clear();
      const target = { gateway: arm.url.replace(/\/graphql$/, ''), token: options.token };
      const first = !warmed.has(arm.name);
      const warmS = options.warmMaxS;
      // later warm-ups run until stable too: 3 s after a cache arm's entries expired measured its cold reads
      const warm = await runMerchantFeatures(target, options.query, options.merchants, {
        name: `warm-up ${arm.name}`,
        connections: options.connections,
        durationS: warmS,
        untilStable: { windowS: 2, windows: 4, tolerance: 0.1, minS: Math.min(first ? 10 : options.rewarmS, warmS) },
      });
      warmed.add(arm.name);
      const processes = options.processes();
      await waitIdle(processes);
      const cpu0 = cpuSnapshot(processes);
      const sql0 = await options.sql().snapshot();
      const load = await runMerchantFeatures(target, options.query, options.merchants, { name: arm.name, connections: options.connections, durationS: options.sliceS });
      // what was in flight at the stop finishes (and its CPU counts): requests are divided by `sent`
      await waitIdle(processes);
      const cpuMs = cpuDelta(cpu0, cpuSnapshot(processes));
      const sql1 = await options.sql().snapshot();
      const warmSeconds = (warm.windows?.length ?? 0) * 2 || warmS;
      slices.push({
        arm: arm.name,
        round,
        warmup: { seconds: Math.min(warmSeconds, warmS), stable: warm.stable ?? true, windows: warm.windows ?? [] },
        load,
        cpuMs,
        statements: sql1.statements - sql0.statements,
        rowsRead: sql1.rowsRead - sql0.rowsRead,
        loadAverage: (await import('node:os')).loadavg().map((n) => Number(n.toFixed(2))),
      });
      const total = Object.entries(cpuMs).filter(([n]) => n !== 'bench').reduce((a, [, v]) => a + v, 0);
      options.say(
        `  round ${round} ${arm.name}: ${load.requestsPerSecond.toFixed(0)} req/s, p95 ${load.p95.toFixed(1)} ms, CPU ${(total / Math.max(load.sent, 1)).toFixed(2)} ms/request` +
          `, warm-up ${warm.stable ? 'stable' : 'not stable'} after ${Math.min(warmSeconds, warmS)} s (${(warm.windows ?? []).map((w) => w.toFixed(0)).join(' ')} req/s)` +
          `, load average ${slices.at(-1)!.loadAverage.join(' ')}`,
      );
    }
  }
  return slices;
}

export function summarizeArms(slices: Slice[]): ArmSummary[] {
  const names = [...new Set(slices.map((s) => s.arm))];
  return names.map((arm) => {
    const own = slices.filter((s) => s.arm === arm);
    const sent = own.reduce((n, s) => n + s.load.sent, 0);
    const completed = own.reduce((n, s) => n + s.load.requests, 0);
    const seconds = own.reduce((n, s) => n + s.load.durationS, 0);
    const latencies = own.flatMap((s) => s.load.latencies).sort((a, b) => a - b);
    const cpu: Record<string, number> = {};
    for (const s of own) for (const [name, ms] of Object.entries(s.cpuMs)) cpu[name] = (cpu[name] ?? 0) + ms;
    const cpuPerRequest = Object.fromEntries(Object.entries(cpu).map(([name, ms]) => [name, ms / Math.max(sent, 1)]));
    cpuPerRequest.total = Object.entries(cpuPerRequest)
      .filter(([name]) => name !== 'bench')
      .reduce((a, [, v]) => a + v, 0);
    return {
      arm,
      slices: own.length,
      sent,
      completed,
      requestsPerSecond: own.reduce((n, s) => n + s.load.requestsPerSecond * s.load.durationS, 0) / Math.max(seconds, 1),
      perRoundRequestsPerSecond: own.map((s) => Number(s.load.requestsPerSecond.toFixed(1))),
      p50: percentile(latencies, 0.5),
      p95: percentile(latencies, 0.95),
      p99: percentile(latencies, 0.99),
      errors: own.reduce((n, s) => n + s.load.errors + s.load.non2xx + s.load.graphqlErrors + s.load.sampledBad, 0),
      cpuPerRequest,
      statementsPerRequest: own.reduce((n, s) => n + s.statements, 0) / Math.max(sent, 1),
      rowsReadPerRequest: own.reduce((n, s) => n + s.rowsRead, 0) / Math.max(sent, 1),
    };
  });
}

const PROCESS_ORDER = ['gateway', 'gateway B', 'hive', 'monolith', 'billing', 'tenancy', 'catalog', 'orders', 'media', 'monitoring', 'postgresql'];

export function printArms(say: (line?: string) => void, summaries: ArmSummary[], connections: number): void {
  const present = PROCESS_ORDER.filter((name) => summaries.some((s) => (s.cpuPerRequest[name] ?? 0) >= 0.005));
  say(`MerchantFeatures, random merchant, ${connections} connections (slices alternated; CPU and statements per request sent):`);
  say(`| arm | slices | requests | req/s (per slice) | p50 ms | p95 ms | p99 ms | errors | CPU ms/req, all | ${present.join(' | ')} | bench (load) | SQL stmts/req | rows read/req |`);
  say(`|---|---:|---:|---|---:|---:|---:|---:|---:|${present.map(() => '---:|').join('')}---:|---:|---:|`);
  for (const s of summaries) {
    const cell = (name: string) => (s.cpuPerRequest[name] ?? 0).toFixed(2);
    say(
      `| ${s.arm} | ${s.slices} | ${s.completed} | ${s.requestsPerSecond.toFixed(0)} (${s.perRoundRequestsPerSecond.join(', ')}) | ${s.p50.toFixed(1)} | ${s.p95.toFixed(1)} | ${s.p99.toFixed(1)} | ${s.errors} | ` +
        `**${s.cpuPerRequest.total.toFixed(2)}** | ${present.map(cell).join(' | ')} | ${cell('bench')} | ${s.statementsPerRequest.toFixed(1)} | ${s.rowsReadPerRequest.toFixed(0)} |`,
    );
  }
}

export interface Ratio {
  of: string;
  to: string;
  throughput: number;
  cpuPerRequest: number;
  p95: number;
}

export function ratios(summaries: ArmSummary[], reference = 'tiergraph'): Ratio[] {
  const base = summaries.find((s) => s.arm === reference);
  if (!base) return [];
  return summaries
    .filter((s) => s.arm !== reference)
    .map((s) => ({
      of: reference,
      to: s.arm,
      throughput: base.requestsPerSecond / s.requestsPerSecond,
      cpuPerRequest: base.cpuPerRequest.total / s.cpuPerRequest.total,
      p95: base.p95 / s.p95,
    }));
}

export function printRatios(say: (line?: string) => void, list: Ratio[]): void {
  if (!list.length) return;
  say('| ratio | throughput | CPU per request | p95 |');
  say('|---|---:|---:|---:|');
  for (const r of list) say(`| ${r.of} / ${r.to} | ${r.throughput.toFixed(2)} | ${r.cpuPerRequest.toFixed(2)} | ${r.p95.toFixed(2)} |`);
}
