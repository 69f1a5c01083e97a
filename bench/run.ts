/**
 * `pnpm bench`: the whole stack as `pnpm start` runs it (on bench ports and .data/bench), the reference-scale data
 * (bench/generate.ts), then the load scenarios:
 *   1. features: MerchantFeatures for a random merchant per request, side by side with the monolith bound (the same
 *      answer from one SQL statement, bench/monolith.ts), with Hive Gateway on the same subgraphs (--peer hive) and
 *      with tiergraph under other settings (--ab-env NAME=VALUE), alternated A/B/A/B (bench/compare.ts); per slice
 *      warm-up until stable, CPU per request of every process, SQL statements per request; ratios. Then the same
 *      on 1 connection against tiergraph (the unloaded latency);
 *   2. mix: 95 % MerchantFeatures / 5 % CreateProduct, PlaceOrder, SetMerchantFeatureOverrides; stale reads counted;
 *   3. admin: AdminSubscriptions first: 1000, 20 sequential runs;
 *   4. ingestion: recordUsageBatch of 1,000 events (10 % repeats) across every bench merchant's stores, 2 batches
 *      in flight, 20 s; afterwards every merchant's stored total must equal its unique accepted events.
 * Prints the tables, writes everything to .data/bench/results-<time>.json. Exits 1 when any answer was an error
 * (or, with --strict, when a target is missed). Not part of `pnpm test`.
 *
 *   pnpm bench [--quick] [--skip-generate] [--peer hive] [--ab-env NAME=VALUE]… [--rounds 2] [--duration 15]
 *              [--warmup 60] [--rewarm 3] [--connections 50] [--no-monolith] [--admin-runs 20] [--strict]
 *              [--scenarios features,mix,admin,ingestion] [--mix-duration 20] [--mix-warmup 60] [--ingest-duration 20] [--ingest-workers 2]
 */
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { signToken } from '@tiergraph/runtime';
import { Client } from 'pg';
import {
  checkMerchantFeatures,
  contractOperation,
  poolAdminRuns,
  runAdminPage,
  runMerchantFeatures,
  scrapeGateway,
  subgraphFetchDelta,
  waitForDrain,
  type AdminPageResult,
  type LoadResult,
  type MerchantKey,
  type SubgraphFetchRow,
} from './load';
import { BENCH_DATA_DIR, BENCH_DATABASE_URL, BENCH_GATEWAY, BENCH_JWT_SECRET, BENCH_PORTS, startStack, type RunningStack } from './stack';
import {
  alternate,
  printArms,
  printRatios,
  ratios,
  sameAnswers,
  startGatewayPeer,
  startHivePeer,
  startMonolithPeer,
  waitIdle,
  summarizeArms,
  type Arm,
  type ArmSummary,
  type Peer,
  type Ratio,
  type Slice,
} from './compare';
import { measureBypassStaleness, runMix, mixMerchantsOf, type BypassStaleness, type MixResult } from './mix';
import { cpuDelta, cpuSnapshot, memorySnapshot, stackProcesses } from './procs';
import { ensureStatementStats, SqlStats } from './sql-stats';
import { runIngestion, storesOf, type IngestResult } from './ingest';

const ROOT = resolve(__dirname, '..');
const CONTRACT_OPERATIONS = resolve(ROOT, '..', 'shared', 'contract', 'operations.graphql');
/** The issue's targets on a 2-core machine with the whole stack local. */
const TARGETS = { merchantFeaturesP95Ms: 25, adminPageMs: 300, cpuPerRequestMs: 10, hiveRatio: 1.5, mixOfMonolith: 0.5, stackMemoryMib: 1536 };

const say = (line = '') => process.stdout.write(`${line}\n`);
const ms = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '-');

const SCENARIOS = ['features', 'mix', 'admin', 'ingestion'];

function options() {
  const { values } = parseArgs({
    options: {
      'skip-generate': { type: 'boolean', default: false },
      quick: { type: 'boolean', default: false },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      rewarm: { type: 'string' },
      rounds: { type: 'string', default: '2' },
      connections: { type: 'string', default: '50' },
      peer: { type: 'string', multiple: true, default: [] },
      'ab-env': { type: 'string', multiple: true, default: [] },
      'no-monolith': { type: 'boolean', default: false },
      'admin-runs': { type: 'string' },
      strict: { type: 'boolean', default: false },
      scenarios: { type: 'string', default: SCENARIOS.join(',') },
      'mix-duration': { type: 'string' },
      'mix-warmup': { type: 'string' },
      'ingest-duration': { type: 'string' },
      'ingest-workers': { type: 'string', default: '2' },
    },
  });
  const quick = values.quick!;
  const scenarios = new Set(values.scenarios!.split(',').map((s) => s.trim()));
  for (const name of scenarios) if (!SCENARIOS.includes(name)) throw new Error(`--scenarios: unknown scenario ${name}`);
  const int = (name: string, value: string | undefined, fallback: number, min: number) => {
    const n = Number(value ?? fallback);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}`);
    return n;
  };
  for (const peer of values.peer!) if (peer !== 'hive') throw new Error(`--peer: unknown peer ${peer} (hive)`);
  // one arm per --ab-env; 'A=1 B=2' changes both in one arm
  const abEnv = values['ab-env']!.map((entry) => {
    const pairs = entry.trim().split(/\s+/).map((pair) => {
      const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(pair);
      if (!match) throw new Error(`--ab-env must be NAME=VALUE (several separated by spaces), not ${entry}`);
      return [match[1], match[2]] as const;
    });
    return Object.fromEntries(pairs) as Record<string, string>;
  });
  if (abEnv.filter((env) => Object.keys(env).every((n) => n.startsWith('GATEWAY_'))).length > 1) {
    throw new Error('--ab-env: one arm of GATEWAY_ settings only per run (it runs in a second gateway)');
  }
  return {
    quick,
    /** --quick: a tenth of the reference data (100 merchants) and short slices, for trying the bench. */
    scale: quick ? 0.1 : 1,
    skipGenerate: values['skip-generate']!,
    durationS: int('duration', values.duration, quick ? 8 : 15, 1),
    // the most a warm-up runs before stable: the cache arm on 1,000 merchants was still rising after 20 s
    warmupS: int('warmup', values.warmup, quick ? 30 : 60, 0),
    rewarmS: int('rewarm', values.rewarm, 3, 0),
    rounds: int('rounds', values.rounds, 2, 1),
    connections: int('connections', values.connections, 50, 1),
    peers: values.peer!,
    abEnv,
    monolith: !values['no-monolith'],
    adminRuns: int('admin-runs', values['admin-runs'], quick ? 5 : 20, 1),
    strict: values.strict!,
    scenarios,
    mixDurationS: int('mix-duration', values['mix-duration'], quick ? 8 : 20, 1),
    /** The mix's warm-up before every slice runs until stable, at most this long (a cold cache on 1,000 merchants needs ~30 s). */
    mixWarmupS: int('mix-warmup', values['mix-warmup'], 60, 0),
    ingestDurationS: int('ingest-duration', values['ingest-duration'], quick ? 8 : 20, 1),
    ingestWorkers: int('ingest-workers', values['ingest-workers'], 2, 1),
  };
}

function runGenerator(scale: number): Promise<number> {
  const started = Date.now();
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join('bench', 'generate.ts')], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: BENCH_DATABASE_URL, BENCH_SCALE: String(scale) },
      stdio: 'inherit',
    });
    child.once('exit', (code) => (code === 0 ? done(Date.now() - started) : fail(new Error(`bench/generate.ts exited with code ${code}`))));
  });
}

async function merchantsOf(databaseUrl: string): Promise<{ merchants: MerchantKey[]; counts: Record<string, number> }> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ merchant_id: string; platform_id: string; code: string }>(
      `SELECT s.merchant_id, s.platform_id, t.code FROM billing.merchant_subscriptions s JOIN billing.subscription_tiers t ON t.id = s.tier_id`,
    );
    const counts: Record<string, number> = {};
    for (const table of ['catalog.products', 'orders.orders', 'orders.order_items', 'tenancy.store_users']) {
      counts[table] = Number((await client.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);
    }
    return { merchants: rows.map((r) => ({ merchantId: r.merchant_id, platformId: r.platform_id, tierCode: r.code })), counts };
  } finally {
    await client.end();
  }
}

function printLoad(results: LoadResult[]): void {
  say('| scenario | conns | requests | req/s | p50 ms | p95 ms | p99 ms | max ms | errors | non-2xx | GraphQL errors | sampled bad |');
  say('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of results) {
    say(
      `| ${r.name} | ${r.connections} | ${r.requests} | ${r.requestsPerSecond.toFixed(0)} | ${ms(r.p50)} | ${ms(r.p95)} | ${ms(r.p99)} | ${ms(r.max)} | ${r.errors} | ${r.non2xx} | ${r.graphqlErrors} | ${r.sampledBad}/${r.sampled} |`,
    );
  }
}

interface AdminArmResult {
  arm: string;
  round: number;
  result: AdminPageResult;
  /** CPU of every process per page (warm-up runs included, as in the statements), ms. */
  cpuMsPerPage: Record<string, number>;
  statementsPerPage: number;
}

interface MixArmResult {
  arm: string;
  round: number;
  /** The arm runs with GATEWAY_RESPONSE_CACHE=on. */
  cacheOn: boolean;
  result: MixResult;
  cpuMsPerRequest: number;
  cpuByProcess: Record<string, number>;
  bypass: BypassStaleness;
  /** Response cache lookups during the slice (0 with the cache off) and how many were hits. */
  hits: number;
  lookups: number;
  /** The warm-up before the slice (the same mix, until its throughput is stable): its length, windows and cache hits. */
  warmup: { seconds: number; stable: boolean; windows: number[]; hits: number; lookups: number; stale: number; errors: number };
  /** Δ of every response cache counter on the arm's /metrics during the slice (`name{labels}` → Δ), and the entries after it. */
  cacheCounters: Record<string, number>;
}

/** Every response cache series on a gateway's /metrics (`name{labels}` → value; none when it has no cache). */
async function cacheSeries(gateway: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${gateway}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^tiergraph_gateway_response_cache_(\S+) (\S+)$/gm)) out[m[1]] = Number(m[2]);
  return out;
}

/** Counters' Δ between two cacheSeries (gauges: the value after). */
function cacheSeriesDelta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) {
    const d = k.includes('_total') ? v - (before[k] ?? 0) : v;
    if (d) out[k.replace(/_total/, '')] = d;
  }
  return out;
}

/** The response cache's lookup counters on a gateway's /metrics (zeros when it has no cache). */
async function cacheLookups(gateway: string): Promise<{ hit: number; miss: number; bypass: number }> {
  const series = await cacheSeries(gateway);
  const of = (result: string) => series[`lookups_total{result="${result}"}`] ?? 0;
  return { hit: of('hit'), miss: of('miss'), bypass: of('bypass') };
}

function printMixArms(rows: MixArmResult[]): void {
  say('read/write mix side by side (A/B/A/B; CPU: every process of the stack and the peers, per request; bypass: a write straight to catalog until the gateway answers it, quiet):');
  say('| arm | round | warm-up s (stable?) | requests | req/s | p50 ms | p95 ms | reads p95 ms | writes p95 ms | CPU ms/request | cache hits / lookups | stale / checked | errors | bypass staleness p50 / p95 / max ms | bypass: fresh answer received p95 ms |');
  say('|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|');
  for (const { arm, round, result: r, cpuMsPerRequest, bypass: b, hits, lookups, warmup: w } of rows) {
    say(
      `| ${arm} | ${round} | ${w.seconds} (${w.stable ? 'stable' : 'not stable'}) | ${r.requests} | ${r.requestsPerSecond.toFixed(0)} | ${ms(r.all.p50)} | ${ms(r.all.p95)} | ${ms(r.reads.p95)} | ${ms(r.writes.p95)} | ${cpuMsPerRequest.toFixed(2)} | ${hits} / ${lookups} | ${r.stale} / ${r.checked} | ${r.errors} | ${ms(b.p50)} / ${ms(b.p95)} / ${ms(b.max)} (${b.staleAnswers} stale answers; ${b.cachedBefore} of ${b.samples} cached before the write; ${b.timeouts} timeouts) | ${ms(b.receivedP95)} |`,
    );
  }
}

function printMix(r: MixResult): void {
  say(`${r.name}, ${r.connections} clients, ${r.durationS} s:`);
  say('| | requests | req/s | p50 ms | p95 ms | p99 ms | max ms |');
  say('|---|---:|---:|---:|---:|---:|---:|');
  say(`| all | ${r.all.requests} | ${r.requestsPerSecond.toFixed(0)} | ${ms(r.all.p50)} | ${ms(r.all.p95)} | ${ms(r.all.p99)} | ${ms(r.all.max)} |`);
  say(`| reads | ${r.reads.requests} | | ${ms(r.reads.p50)} | ${ms(r.reads.p95)} | ${ms(r.reads.p99)} | ${ms(r.reads.max)} |`);
  say(`| writes ${JSON.stringify(r.writes.byKind)} | ${r.writes.requests} | | ${ms(r.writes.p50)} | ${ms(r.writes.p95)} | ${ms(r.writes.p99)} | ${ms(r.writes.max)} |`);
  say(`reads checked after a write: ${r.checked}, stale: ${r.stale}, not checkable (another client's override came between): ${r.skipped}; refused by rule: ${JSON.stringify(r.refused)}; errors: ${r.errors}`);
}

function printAdminArms(rows: AdminArmResult[]): void {
  say('AdminSubscriptions first: 1000 side by side (A/B/A/B; CPU: every process of the stack and the peers, per page):');
  say('| arm | round | runs | p50 ms | p95 ms | max ms | CPU ms/page | by process | statements/page | errors |');
  say('|---|---:|---:|---:|---:|---:|---:|---|---:|---:|');
  for (const { arm, round, result: r, cpuMsPerPage, statementsPerPage } of rows) {
    const measured = Object.entries(cpuMsPerPage).filter(([n, v]) => n !== 'bench' && v >= 0.5);
    const all = measured.reduce((a, [, v]) => a + v, 0);
    say(
      `| ${arm} | ${round} | ${r.requests} | ${ms(r.p50)} | ${ms(r.p95)} | ${ms(r.max)} | ${all.toFixed(0)} | ${measured.map(([n, v]) => `${n} ${v.toFixed(0)}`).join(', ')} | ${statementsPerPage.toFixed(1)} | ${r.errors} |`,
    );
  }
}

function printAdmin(r: AdminPageResult): void {
  say('| scenario | runs | p50 ms | p95 ms | max ms | edges | totalCount | response KiB | errors |');
  say('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  say(`| ${r.name} | ${r.requests} | ${ms(r.p50)} | ${ms(r.p95)} | ${ms(r.max)} | ${r.edges} | ${r.totalCount} | ${(r.bytes / 1024).toFixed(0)} | ${r.errors} |`);
}

function printIngestion(r: IngestResult): void {
  say('| scenario | batches | events sent | accepted | duplicates (sent) | refused | accepted events/s | events/s | p50 ms | p95 ms | max ms | errors | totals checked | totals wrong |');
  say('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  say(
    `| ${r.name} | ${r.batches} | ${r.eventsSent} | ${r.accepted} | ${r.duplicates} (${r.duplicatesSent}) | ${r.refused} ${JSON.stringify(r.refusedByCode)} | ${r.acceptedPerSecond.toFixed(0)} | ${r.eventsPerSecond.toFixed(0)} | ${ms(r.p50)} | ${ms(r.p95)} | ${ms(r.max)} | ${r.errors} | ${r.merchantsChecked} | ${r.totalsMismatched} / ${r.eventsMismatched} |`,
  );
}

function printFetches(title: string, { requests, rows }: { requests: number; rows: SubgraphFetchRow[] }): void {
  say(`gateway → subgraph fetches during ${title}, ${requests} requests at the gateway (tiergraph_gateway_subgraph_fetch_duration_seconds):`);
  say('| subgraph | fetches | per request | mean ms | p95 ≤ ms (bucket) |');
  say('|---|---:|---:|---:|---:|');
  for (const r of rows) say(`| ${r.subgraph} | ${r.fetches} | ${r.perRequest.toFixed(2)} | ${ms(r.meanMs)} | ${r.p95BucketMs ?? '> 2500'} |`);
}

async function main(): Promise<number> {
  const opts = options();
  const secret = BENCH_JWT_SECRET;
  if (!existsSync(CONTRACT_OPERATIONS)) throw new Error(`the contract's operations are not at ${CONTRACT_OPERATIONS}`);
  const merchantFeatures = contractOperation(CONTRACT_OPERATIONS, 'MerchantFeatures');
  const adminSubscriptions = contractOperation(CONTRACT_OPERATIONS, 'AdminSubscriptions');
  const machine = {
    date: new Date().toISOString(),
    nproc: os.availableParallelism(),
    cpu: os.cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    loadAverageAtStart: os.loadavg().map((n) => Number(n.toFixed(2))),
  };
  say(`tiergraph bench — ${machine.date}, ${machine.nproc} cores (${machine.cpu}), ${machine.memoryGb} GiB, node ${machine.node}, load average ${machine.loadAverageAtStart.join(' ')}`);

  say(`starting the stack (scripts/start.ts, DATA_DIR=${BENCH_DATA_DIR}, gateway ${BENCH_GATEWAY}, PostgreSQL :${BENCH_PORTS.EMBEDDED_PG_PORT})`);
  let stack: RunningStack = await startStack(ROOT, { secret, say });
  let stackEnv: Record<string, string> = {};
  const peers: Peer[] = [];
  let sql: SqlStats | undefined;
  const stopAll = async () => {
    await sql?.close().catch(() => undefined);
    await Promise.all(peers.map((p) => p.stop()));
    await stack.stop();
  };
  const stopOnSignal = (signal: NodeJS.Signals) => {
    say(`${signal}: stopping the stack`);
    void stopAll().then(() => process.exit(130));
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  /** Runs the stack with `env` (restarting it when it runs with other settings); true when it restarted. */
  const ensureStack = async (env: Record<string, string>, force = false): Promise<boolean> => {
    if (!force && JSON.stringify(env) === JSON.stringify(stackEnv)) return false;
    say(`  restarting the stack${Object.keys(env).length ? ` with ${Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ')}` : ''}`);
    await sql?.close().catch(() => undefined);
    await stack.stop();
    stack = await startStack(ROOT, { secret, say: () => undefined, env });
    stackEnv = env;
    sql = await SqlStats.open(BENCH_DATABASE_URL);
    return true;
  };
  try {
    // SQL statements per request need pg_stat_statements, loaded at server start: asked for once per data directory
    const statementStats = await ensureStatementStats(BENCH_DATABASE_URL);
    if (statementStats === 'restart') {
      say('pg_stat_statements asked for (ALTER SYSTEM shared_preload_libraries, once per data directory): restarting the stack');
      await ensureStack({}, true);
      await ensureStatementStats(BENCH_DATABASE_URL);
      // reopened: the extension exists only now
      await sql?.close();
      sql = await SqlStats.open(BENCH_DATABASE_URL);
    }
    sql ??= await SqlStats.open(BENCH_DATABASE_URL);
    say(`SQL statements counted from ${sql.source}`);

    let generationMs: number | null = null;
    if (opts.skipGenerate) say('--skip-generate: using the data already in .data/bench');
    else {
      say(`generating the bench data: DATABASE_URL=${BENCH_DATABASE_URL} BENCH_SCALE=${opts.scale} node --import tsx bench/generate.ts`);
      generationMs = await runGenerator(opts.scale);
    }
    const { merchants, counts } = await merchantsOf(BENCH_DATABASE_URL);
    if (!merchants.length) throw new Error('no subscriptions in the bench database: run without --skip-generate');
    say(`data: ${merchants.length} subscriptions, ${Object.entries(counts).map(([t, n]) => `${t} ${n.toLocaleString('en-US')}`).join(', ')}`);

    const target = { gateway: BENCH_GATEWAY, token: await signToken(secret, { role: 'admin', sub: 'bench' }, '2h') };
    /** Settings of the gateway alone run on gateway B beside the stack's gateway; any other restarts the stack. */
    const gatewayOnly = (env: Record<string, string>) => Object.keys(env).every((n) => n.startsWith('GATEWAY_'));
    let gatewayBEnv: string | undefined;
    /**
     * The arm of one --ab-env, for every scenario: gateway B started with its settings the first time an arm needs it
     * (it has one port, so one such arm per run), or the stack's gateway with the stack restarted with them.
     */
    const abArm = async (env: Record<string, string>): Promise<{ name: string; gateway: string; stackEnv?: Record<string, string> }> => {
      const name = `tiergraph ${Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ')}`;
      if (!gatewayOnly(env)) return { name, gateway: target.gateway, stackEnv: env };
      let peer = peers.find((p) => p.name === 'gateway B');
      if (peer && gatewayBEnv !== JSON.stringify(env)) throw new Error(`one --ab-env of GATEWAY_ settings per run: gateway B already runs with ${gatewayBEnv}`);
      if (!peer) peers.push((peer = await startGatewayPeer(ROOT, BENCH_DATA_DIR, secret, env)));
      gatewayBEnv = JSON.stringify(env);
      return { name, gateway: peer.url.replace(/\/graphql$/, '') };
    };

    const load: LoadResult[] = [];
    const fetchRows: Record<string, { requests: number; rows: SubgraphFetchRow[] }> = {};
    let compared: { slices: Slice[]; summaries: ArmSummary[]; ratios: Ratio[] } | null = null;
    /** Memory of every process (PSS, MiB) right after the loaded scenarios. */
    const memory: Array<{ after: string; mib: Record<string, number> }> = [];
    const allProcesses = () => {
      const processes = stackProcesses(stack.pid);
      for (const peer of peers) processes.set(peer.name, peer.pid);
      return processes;
    };
    if (opts.scenarios.has('features')) {
      // One answer per tier, checked in full before any load: a failing resolution path is reported as it is.
      for (const tier of ['essential', 'professional', 'business', 'enterprise']) {
        const merchant = merchants.find((m) => m.tierCode === tier);
        if (!merchant) continue;
        const response = await fetch(`${target.gateway}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${target.token}` },
          body: JSON.stringify({
            operationName: 'MerchantFeatures',
            query: merchantFeatures,
            variables: { merchantId: merchant.merchantId, platformId: merchant.platformId },
          }),
        });
        const text = await response.text();
        const problem = response.ok ? checkMerchantFeatures(text) : `status ${response.status}`;
        if (problem) throw new Error(`MerchantFeatures for a ${tier} merchant failed (${problem}):\n${text.slice(0, 3000)}`);
      }
      say('MerchantFeatures answers correctly for one merchant of each tier');

      const arms: Arm[] = [{ name: 'tiergraph', url: `${BENCH_GATEWAY}/graphql` }];
      if (opts.monolith) {
        peers.push(await startMonolithPeer(ROOT, BENCH_DATABASE_URL, BENCH_DATA_DIR, 8));
        arms.push({ name: 'monolith', url: peers.at(-1)!.url });
      }
      if (opts.peers.includes('hive')) {
        peers.push(await startHivePeer(ROOT, BENCH_DATA_DIR));
        arms.push({ name: 'hive', url: peers.at(-1)!.url });
      }
      for (const env of opts.abEnv) {
        const { name, gateway, stackEnv } = await abArm(env);
        arms.push({ name, url: `${gateway}/graphql`, stackEnv });
      }
      for (const arm of arms.slice(1)) {
        if (arm.stackEnv) continue;
        // the peers give the same answer byte for byte (Hive may still be loading its supergraph: a few tries)
        let problem: string | null = 'not asked';
        for (let attempt = 0; attempt < 20 && problem; attempt++) {
          problem = await sameAnswers(`${BENCH_GATEWAY}/graphql`, arm.url, target.token, merchantFeatures, merchants).catch((e: Error) => e.message);
          if (problem) await new Promise((r) => setTimeout(r, 1000));
        }
        if (problem) throw new Error(`${arm.name} does not give tiergraph's MerchantFeatures answer: ${problem}`);
      }
      const checked = arms.slice(1).filter((a) => !a.stackEnv);
      if (checked.length) say(`${checked.map((a) => a.name).join(', ')}: MerchantFeatures answered byte for byte as tiergraph answers it (one merchant per tier)`);
      say(
        `MerchantFeatures side by side: ${arms.map((a) => a.name).join(' / ')}, ${opts.rounds} round(s), ${opts.connections} connections, ` +
          `${opts.durationS} s per slice after a warm-up until stable (≤ ${opts.warmupS} s; at least 10 s before an arm's first slice, ${opts.rewarmS} s before later ones)`,
      );
      const before = await scrapeGateway(target.gateway);
      const slices = await alternate({
        arms,
        rounds: opts.rounds,
        sliceS: opts.durationS,
        warmMaxS: opts.warmupS,
        rewarmS: opts.rewarmS,
        connections: opts.connections,
        token: target.token,
        query: merchantFeatures,
        merchants,
        ensureStack,
        processes: allProcesses,
        sql: () => sql!,
        say,
      });
      memory.push({ after: 'the MerchantFeatures slices', mib: memorySnapshot(allProcesses()) });
      await ensureStack({});
      const summaries = summarizeArms(slices);
      compared = { slices, summaries, ratios: ratios(summaries) };
      if (!arms.some((a) => a.stackEnv)) fetchRows[`MerchantFeatures ×${opts.connections} (tiergraph's warm-ups and slices)`] = subgraphFetchDelta(before, await scrapeGateway(target.gateway), 'MerchantFeatures');

      const name = `MerchantFeatures, random merchant (tiergraph)`;
      say(`${name}: 1 connection, ${opts.durationS} s`);
      const before1 = await scrapeGateway(target.gateway);
      const result = await runMerchantFeatures(target, merchantFeatures, merchants, { name, connections: 1, durationS: opts.durationS });
      await waitForDrain(target.gateway);
      fetchRows['MerchantFeatures ×1'] = subgraphFetchDelta(before1, await scrapeGateway(target.gateway), 'MerchantFeatures');
      load.push(result);
    }
    let mix: MixResult | null = null;
    const mixArms: MixArmResult[] = [];
    if (opts.scenarios.has('mix')) {
      const mixMerchants = await mixMerchantsOf(BENCH_DATABASE_URL, merchants);
      // tiergraph as started, and beside it a second gateway per --ab-env of GATEWAY_ settings (e.g.
      // GATEWAY_RESPONSE_CACHE=on), alternated A/B/A/B; settings of the whole stack are for the features and admin scenarios
      const arms: Array<{ name: string; gateway: string; env: Record<string, string> }> = [{ name: 'tiergraph', gateway: target.gateway, env: {} }];
      for (const env of opts.abEnv.filter(gatewayOnly)) arms.push({ ...(await abArm(env)), env });
      const rounds = arms.length > 1 ? opts.rounds : 1;
      const mixWarmed = new Set<string>();
      for (let round = 1; round <= rounds; round++) {
        for (const arm of arms) {
          say(`mix (${arm.name}, round ${round}): ${opts.connections} clients, 95 % MerchantFeatures / 5 % writes (CreateProduct, PlaceOrder, SetMerchantFeatureOverrides), ${opts.mixDurationS} s`);
          const processes = allProcesses();
          await waitIdle(processes);
          // warm: the same mix until its throughput is stable (at least 10 s for an arm's first slice); the slice
          // starts after it, so a cache's first reads of every merchant are the warm-up's, not the slice's
          const first = !mixWarmed.has(arm.name);
          mixWarmed.add(arm.name);
          const warmLookups0 = await cacheLookups(arm.gateway);
          const warm = await runMix({ ...target, gateway: arm.gateway }, merchantFeatures, mixMerchants, {
            connections: opts.connections,
            durationS: opts.mixWarmupS,
            writeShare: 0.05,
            untilStable: { windowS: 2, windows: 4, tolerance: 0.1, minS: first ? Math.min(10, opts.mixWarmupS) : 0 },
          });
          const warmLookups1 = await cacheLookups(arm.gateway);
          const warmHits = warmLookups1.hit - warmLookups0.hit;
          const warmup = {
            seconds: Math.round(warm.requests / Math.max(warm.requestsPerSecond, 1e-9)),
            stable: warm.stable ?? false,
            windows: warm.windows ?? [],
            hits: warmHits,
            lookups: warmHits + warmLookups1.miss - warmLookups0.miss + warmLookups1.bypass - warmLookups0.bypass,
            stale: warm.stale,
            errors: warm.errors,
          };
          say(
            `  warm-up ${warmup.stable ? 'stable' : 'NOT stable'} after ${warmup.seconds} s (${warmup.windows.map((w) => w.toFixed(0)).join(' ')} req/s)` +
              `${warmup.lookups ? `, cache hits ${warmup.hits} of ${warmup.lookups}` : ''}, stale ${warm.stale} of ${warm.checked}, errors ${warm.errors}`,
          );
          await waitIdle(processes);
          const lookups0 = await cacheLookups(arm.gateway);
          const series0 = await cacheSeries(arm.gateway);
          const cpu0 = cpuSnapshot(processes);
          const result = await runMix({ ...target, gateway: arm.gateway }, merchantFeatures, mixMerchants, { connections: opts.connections, durationS: opts.mixDurationS, writeShare: 0.05 });
          const cpu = cpuDelta(cpu0, cpuSnapshot(processes));
          const lookups1 = await cacheLookups(arm.gateway);
          const cacheCounters = cacheSeriesDelta(series0, await cacheSeries(arm.gateway));
          const hits = lookups1.hit - lookups0.hit;
          const lookups = hits + lookups1.miss - lookups0.miss + lookups1.bypass - lookups0.bypass;
          result.name = `${result.name} (${arm.name})`;
          memory.push({ after: `the mix (${arm.name}, round ${round})`, mib: memorySnapshot(processes) });
          const cpuMs = Object.entries(cpu).filter(([n]) => n !== 'bench').reduce((a, [, v]) => a + v, 0) / Math.max(result.requests, 1);
          say(`  ${result.requestsPerSecond.toFixed(0)} req/s, p95 ${ms(result.all.p95)} ms, CPU ${cpuMs.toFixed(2)} ms/request, stale ${result.stale} of ${result.checked}, cache hits ${hits} of ${lookups} lookups`);
          say(`  ${result.distinctMerchants} distinct merchants read (${result.firstReads} first reads of a merchant in the slice), writes refused by rule: ${JSON.stringify(result.refused)}`);
          if (lookups) say(`  response cache during the slice: ${JSON.stringify(cacheCounters)}`);
          // quiet, after the load: from a write straight to catalog (no gateway sees it) to the gateway's fresh answer
          await waitIdle(processes);
          const bypass = await measureBypassStaleness({ ...target, gateway: arm.gateway }, `http://127.0.0.1:${BENCH_PORTS.CATALOG_PORT}/graphql`, merchantFeatures, mixMerchants, opts.quick ? 20 : 50);
          say(
            `  bypass staleness (write answered → first request answered fresh started): p50 ${ms(bypass.p50)} ms, p95 ${ms(bypass.p95)} ms, max ${ms(bypass.max)} ms; ` +
              `fresh answer received p95 ${ms(bypass.receivedP95)} ms (${bypass.staleAnswers} stale answers in ${bypass.samples} samples, ${bypass.cachedBefore} of them cached before the write, ${bypass.timeouts} timeouts)`,
          );
          mixArms.push({ arm: arm.name, round, cacheOn: arm.env.GATEWAY_RESPONSE_CACHE === 'on', result, cpuMsPerRequest: cpuMs, cpuByProcess: cpu, bypass, hits, lookups, cacheCounters, warmup });
          // the cache-on arm carries the issue's targets when there is one
          if (!mix || arm.env.GATEWAY_RESPONSE_CACHE === 'on') mix = result;
        }
      }
    }
    let admin: AdminPageResult | null = null;
    let adminCost: { cpuMsPerPage: Record<string, number>; statementsPerPage: number; statementsByPageSize: Record<number, number> } | null = null;
    const adminArms: AdminArmResult[] = [];
    if (opts.scenarios.has('admin')) {
      // tiergraph as started and one arm per --ab-env (a gateway setting: gateway B beside it; any other: the stack
      // restarted with it), alternated A/B/A/B so the machine's noise hits every arm; the targets are tiergraph's
      const arms: Array<{ name: string; gateway: string; stackEnv?: Record<string, string> }> = [{ name: 'tiergraph', gateway: target.gateway }];
      for (const env of opts.abEnv) arms.push(await abArm(env));
      const rounds = arms.length > 1 ? opts.rounds : 1;
      const tiergraphRuns: AdminPageResult[] = [];
      for (let round = 1; round <= rounds; round++) {
        for (const arm of arms) {
          say(`AdminSubscriptions first: 1000 (${arm.name}, round ${round}): 2 warm-up runs, then ${opts.adminRuns} timed runs one after the other`);
          await ensureStack(arm.stackEnv ?? {});
          const armTarget = { ...target, gateway: arm.gateway };
          const before = await scrapeGateway(arm.gateway);
          const processes = allProcesses();
          await waitIdle(processes);
          const [cpu0, sql0] = [cpuSnapshot(processes), await sql!.snapshot()];
          const result = await runAdminPage(armTarget, adminSubscriptions, { runs: opts.adminRuns, warmup: 2, first: 1000 });
          const [cpu, sql1] = [cpuDelta(cpu0, cpuSnapshot(processes)), await sql!.snapshot()];
          const pages = opts.adminRuns + 2;
          const cpuMsPerPage = Object.fromEntries(Object.entries(cpu).map(([name, ms]) => [name, ms / pages]));
          const statementsPerPage = (sql1.statements - sql0.statements) / pages;
          adminArms.push({ arm: arm.name, round, result, cpuMsPerPage, statementsPerPage });
          if (arm.name !== 'tiergraph') continue;
          tiergraphRuns.push(result);
          if (round > 1) continue;
          fetchRows['AdminSubscriptions first: 1000'] = subgraphFetchDelta(before, await scrapeGateway(arm.gateway), 'AdminSubscriptions');
          adminCost = { cpuMsPerPage, statementsPerPage, statementsByPageSize: {} };
          // statements must not grow with the page: one page each of 10, 100 and 1,000 rows
          for (const first of [10, 100, 1000]) {
            const s0 = await sql!.snapshot();
            const page = await runAdminPage(armTarget, adminSubscriptions, { runs: 1, warmup: 0, first });
            if (page.errors) result.errors += page.errors;
            adminCost.statementsByPageSize[first] = (await sql!.snapshot()).statements - s0.statements;
          }
        }
      }
      await ensureStack({});
      admin = poolAdminRuns(tiergraphRuns);
    }
    let ingestion: IngestResult | null = null;
    if (opts.scenarios.has('ingestion')) {
      const stores = await storesOf(BENCH_DATABASE_URL);
      say(`ingestion: recordUsageBatch of 1,000 events, 10 % repeats, across ${stores.length} stores, ${opts.ingestWorkers} batches in flight, ${opts.ingestDurationS} s`);
      const before = await scrapeGateway(target.gateway);
      ingestion = await runIngestion(target, BENCH_DATABASE_URL, stores, {
        durationS: opts.ingestDurationS,
        workers: opts.ingestWorkers,
        batchSize: 1000,
        duplicateRate: 0.1,
        featureCode: 'ai_tokens_per_month',
      });
      fetchRows['RecordUsageBatch'] = subgraphFetchDelta(before, await scrapeGateway(target.gateway), 'RecordUsageBatch');
    }
    const loadAverageAtEnd = os.loadavg().map((n) => Number(n.toFixed(2)));

    say();
    say(`results (${machine.nproc} cores, node ${machine.node}, load average at start ${machine.loadAverageAtStart.join(' ')}, at end ${loadAverageAtEnd.join(' ')}):`);
    if (generationMs !== null) say(`data generation (bench/generate.ts, whole process): ${(generationMs / 1000).toFixed(1)} s`);
    say();
    if (compared) {
      printArms(say, compared.summaries, opts.connections);
      say();
      printRatios(say, compared.ratios);
      say();
    }
    for (const m of memory) {
      const stackMib = Object.entries(m.mib).filter(([n]) => !peers.some((p) => p.name === n)).reduce((a, [, v]) => a + v, 0);
      say(`memory (PSS) after ${m.after}: the stack ${stackMib.toFixed(0)} MiB (${Object.entries(m.mib).map(([n, v]) => `${n} ${v.toFixed(0)}`).join(', ')})`);
    }
    if (memory.length) say();
    if (load.length) printLoad(load);
    if (mixArms.length > 1) {
      say();
      printMixArms(mixArms);
    }
    if (mix) {
      say();
      printMix(mix);
    }
    if (adminArms.length > 1) {
      say();
      printAdminArms(adminArms);
    }
    if (admin) {
      say();
      printAdmin(admin);
      if (adminCost) {
        const all = Object.entries(adminCost.cpuMsPerPage).filter(([n]) => n !== 'bench').reduce((a, [, v]) => a + v, 0);
        say(`CPU per page of 1,000 (all processes): ${all.toFixed(0)} ms — ${Object.entries(adminCost.cpuMsPerPage).map(([n, v]) => `${n} ${v.toFixed(0)}`).join(', ')}`);
        say(`SQL statements per page of 1,000: ${adminCost.statementsPerPage.toFixed(1)}; by page size: ${Object.entries(adminCost.statementsByPageSize).map(([n, v]) => `${n} rows → ${v}`).join(', ')}`);
      }
    }
    if (ingestion) {
      say();
      printIngestion(ingestion);
    }
    for (const [title, rows] of Object.entries(fetchRows)) {
      say();
      printFetches(title, rows);
    }
    const bodies = [
      ...(compared?.slices.flatMap((s) => s.load.firstErrorBodies.map((b) => `${s.arm}: ${b}`)) ?? []),
      ...load.flatMap((r) => r.firstErrorBodies),
      // mix is only ever one of mixArms' results
      ...mixArms.flatMap((a) => a.result.firstProblems.map((p) => `${a.arm}: ${p}`)),
      ...adminArms.flatMap((a) => a.result.firstErrorBodies.map((b) => `${a.arm}: ${b}`)),
      ...(ingestion?.firstErrorBodies ?? []),
    ];
    if (bodies.length) {
      say();
      say('first error bodies:');
      for (const body of bodies) say(`  ${body}`);
    }

    const ingestionWrong = ingestion
      ? ingestion.errors + ingestion.totalsMismatched + ingestion.eventsMismatched + Math.abs(ingestion.duplicates - ingestion.duplicatesSent)
      : 0;
    const errors =
      load.reduce((n, r) => n + r.errors + r.non2xx + r.graphqlErrors + r.sampledBad, 0) +
      (compared?.summaries.reduce((n, s) => n + s.errors, 0) ?? 0) +
      mixArms.reduce((n, a) => n + a.result.errors + a.result.stale + a.warmup.errors + a.warmup.stale, 0) +
      adminArms.reduce((n, a) => n + a.result.errors, 0) +
      ingestionWrong;
    const tiergraph = compared?.summaries.find((s) => s.arm === 'tiergraph');
    const hive = compared?.summaries.find((s) => s.arm === 'hive');
    const monolith = compared?.summaries.find((s) => s.arm === 'monolith');
    const stackMemory = Math.max(0, ...memory.map((m) => Object.entries(m.mib).filter(([n]) => !peers.some((p) => p.name === n)).reduce((a, [, v]) => a + v, 0)));
    const checks = [
      ...(memory.length ? [{ what: `whole stack memory under load ≤ ${TARGETS.stackMemoryMib} MiB (PSS)`, value: stackMemory, unit: 'MiB', ok: stackMemory <= TARGETS.stackMemoryMib }] : []),
      ...(tiergraph
        ? [
            { what: `MerchantFeatures p95 ≤ ${TARGETS.merchantFeaturesP95Ms} ms at ${opts.connections} connections`, value: tiergraph.p95, unit: 'ms', ok: tiergraph.p95 <= TARGETS.merchantFeaturesP95Ms },
            { what: `MerchantFeatures CPU per request, all processes ≤ ${TARGETS.cpuPerRequestMs} ms`, value: tiergraph.cpuPerRequest.total, unit: 'ms', ok: tiergraph.cpuPerRequest.total <= TARGETS.cpuPerRequestMs },
          ]
        : []),
      ...(tiergraph && hive
        ? [{ what: `MerchantFeatures throughput ≥ ${TARGETS.hiveRatio} × Hive Gateway`, value: tiergraph.requestsPerSecond / hive.requestsPerSecond, unit: '×', ok: tiergraph.requestsPerSecond / hive.requestsPerSecond >= TARGETS.hiveRatio }]
        : []),
      ...(mix
        ? [
            { what: `mix p95 ≤ ${TARGETS.merchantFeaturesP95Ms} ms at ${mix.connections} connections`, value: mix.all.p95, unit: 'ms', ok: mix.all.p95 <= TARGETS.merchantFeaturesP95Ms },
            { what: 'mix: no stale read after a gateway-routed write', value: mix.stale, unit: 'stale', ok: mix.stale === 0 },
            // every round of the cache-on arm (without one: the arm that carries the targets); with the cache, a sample
            // counts only when the read before the write was a hit, else it would not test the cache's eviction
            ...(mixArms.some((a) => a.cacheOn) ? mixArms.filter((a) => a.cacheOn) : mixArms.filter((a) => a.result === mix)).map((a) => ({
              what: `mix (${a.arm}, round ${a.round}): staleness after a write that bypasses the gateway, p95 ≤ 50 ms${a.cacheOn ? ` (${a.bypass.cachedBefore} of ${a.bypass.samples} cached before the write)` : ''}`,
              value: a.bypass.p95,
              unit: 'ms',
              ok: a.bypass.p95 <= 50 && a.bypass.timeouts === 0 && (!a.cacheOn || a.bypass.cachedBefore === a.bypass.samples),
            })),
            ...(monolith
              ? [{ what: `mix throughput ≥ ${TARGETS.mixOfMonolith * 100} % of the monolith bound (MerchantFeatures)`, value: (mix.requestsPerSecond / monolith.requestsPerSecond) * 100, unit: '%', ok: mix.requestsPerSecond >= TARGETS.mixOfMonolith * monolith.requestsPerSecond }]
              : []),
          ]
        : []),
      ...(admin ? [{ what: `admin page of 1,000 ≤ ${TARGETS.adminPageMs} ms (p95 of ${admin.requests} runs)`, value: admin.p95, unit: 'ms', ok: admin.p95 <= TARGETS.adminPageMs }] : []),
    ];
    if (ingestion) {
      say(
        `${ingestion.totalsMismatched + ingestion.eventsMismatched === 0 ? 'OK    ' : 'FAILED'} every merchant's total = its total before + its unique accepted events = its stored events (${ingestion.merchantsChecked} merchants)`,
      );
      say(`${ingestion.duplicates === ingestion.duplicatesSent ? 'OK    ' : 'FAILED'} repeats answered duplicate: ${ingestion.duplicates} of ${ingestion.duplicatesSent}`);
    }
    say();
    for (const c of checks) say(`${c.ok ? 'MET   ' : 'MISSED'} ${c.what}: ${c.unit === '×' ? c.value.toFixed(2) : ms(c.value)} ${c.unit}`);
    say(`${errors === 0 ? 'OK    ' : 'FAILED'} errors: ${errors}`);

    const file = join(ROOT, BENCH_DATA_DIR, `results-${machine.date.replace(/[:.]/g, '-')}.json`);
    writeFileSync(
      file,
      JSON.stringify(
        {
          machine: { ...machine, loadAverageAtEnd },
          options: { ...opts, scenarios: [...opts.scenarios] },
          sqlStatementsFrom: sql?.source,
          generationMs,
          counts,
          compared: compared && { ...compared, slices: compared.slices.map((s) => ({ ...s, load: { ...s.load, latencies: undefined } })) },
          load: load.map((r) => ({ ...r, latencies: undefined })),
          mix,
          mixArms,
          memory,
          admin: admin && { ...admin, latencies: undefined },
          adminCost,
          adminArms: adminArms.map((a) => ({ ...a, result: { ...a.result, latencies: undefined } })),
          ingestion,
          subgraphFetches: fetchRows,
          checks,
          errors,
        },
        null,
        2,
      ),
    );
    say(`written to ${file}`);
    if (errors > 0) return 1;
    return opts.strict && checks.some((c) => !c.ok) ? 1 : 0;
  } finally {
    say('stopping the peers and the stack');
    await stopAll();
    say(`stack stopped (its log: ${stack.logFile})`);
  }
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`bench failed: ${error.message}\n`);
    process.exit(1);
  },
);
