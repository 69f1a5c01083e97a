/**
 * `pnpm bench`: the whole stack as `pnpm start` runs it (on bench ports and .data/bench), the reference-scale data
 * (bench/generate.ts), then the load scenarios through the gateway:
 *   1. MerchantFeatures for a random merchant per request, 50 connections, 5 s warm-up then 20 s measured
 *      (and the same on 1 connection, for the unloaded latency);
 *   2. AdminSubscriptions first: 1000, 20 sequential runs;
 *   3. ingestion: recordUsageBatch of 1,000 events (10 % repeats) across every bench merchant's stores, 2 batches
 *      in flight, 20 s; afterwards every merchant's stored total must equal its unique accepted events.
 * Prints p50/p95/p99, requests/s and error counts, the gateway's subgraph fetch times per scenario, and writes
 * everything to .data/bench/results-<time>.json. Exits 1 when any answer was an error (or, with --strict,
 * when a target is missed). Not part of `pnpm test`.
 *
 *   pnpm bench [--skip-generate] [--duration 20] [--warmup 5] [--connections 50] [--admin-runs 20] [--strict]
 *              [--scenarios features,admin,ingestion] [--ingest-duration 20] [--ingest-workers 2]
 */
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_JWT_SECRET, signToken } from '@tiergraph/runtime';
import { Client } from 'pg';
import {
  checkMerchantFeatures,
  contractOperation,
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
import { BENCH_DATA_DIR, BENCH_DATABASE_URL, BENCH_GATEWAY, startStack, type RunningStack } from './stack';
import { runIngestion, storesOf, type IngestResult } from './ingest';

const ROOT = resolve(__dirname, '..');
const CONTRACT_OPERATIONS = resolve(ROOT, '..', 'shared', 'contract', 'operations.graphql');
/** The issue's targets on a 2-core machine with the whole stack local. */
const TARGETS = { merchantFeaturesP95Ms: 25, adminPageMs: 300 };

const say = (line = '') => process.stdout.write(`${line}\n`);
const ms = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '-');

function options() {
  const { values } = parseArgs({
    options: {
      'skip-generate': { type: 'boolean', default: false },
      duration: { type: 'string', default: '20' },
      warmup: { type: 'string', default: '5' },
      connections: { type: 'string', default: '50' },
      'admin-runs': { type: 'string', default: '20' },
      strict: { type: 'boolean', default: false },
      scenarios: { type: 'string', default: 'features,admin,ingestion' },
      'ingest-duration': { type: 'string', default: '20' },
      'ingest-workers': { type: 'string', default: '2' },
    },
  });
  const scenarios = new Set(values.scenarios!.split(',').map((s) => s.trim()));
  for (const name of scenarios) if (!['features', 'admin', 'ingestion'].includes(name)) throw new Error(`--scenarios: unknown scenario ${name}`);
  const int = (name: string, value: string, min: number) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}`);
    return n;
  };
  return {
    skipGenerate: values['skip-generate']!,
    durationS: int('duration', values.duration!, 1),
    warmupS: int('warmup', values.warmup!, 0),
    connections: int('connections', values.connections!, 1),
    adminRuns: int('admin-runs', values['admin-runs']!, 1),
    strict: values.strict!,
    scenarios,
    ingestDurationS: int('ingest-duration', values['ingest-duration']!, 1),
    ingestWorkers: int('ingest-workers', values['ingest-workers']!, 1),
  };
}

function runGenerator(): Promise<number> {
  const started = Date.now();
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join('bench', 'generate.ts')], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: BENCH_DATABASE_URL },
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
  const secret = DEFAULT_JWT_SECRET;
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

  say(`starting the stack (scripts/start.ts, DATA_DIR=${BENCH_DATA_DIR}, gateway ${BENCH_GATEWAY}, PostgreSQL :54339)`);
  const stack: RunningStack = await startStack(ROOT, { secret, say });
  const stopOnSignal = (signal: NodeJS.Signals) => {
    say(`${signal}: stopping the stack`);
    void stack.stop().then(() => process.exit(130));
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  try {
    let generationMs: number | null = null;
    if (opts.skipGenerate) say('--skip-generate: using the data already in .data/bench');
    else {
      say(`generating the bench data: DATABASE_URL=${BENCH_DATABASE_URL} node --import tsx bench/generate.ts`);
      generationMs = await runGenerator();
    }
    const { merchants, counts } = await merchantsOf(BENCH_DATABASE_URL);
    if (!merchants.length) throw new Error('no subscriptions in the bench database: run without --skip-generate');
    say(`data: ${merchants.length} subscriptions, ${Object.entries(counts).map(([t, n]) => `${t} ${n.toLocaleString('en-US')}`).join(', ')}`);

    const target = { gateway: BENCH_GATEWAY, token: await signToken(secret, { role: 'admin', sub: 'bench' }, '2h') };

    const load: LoadResult[] = [];
    const fetchRows: Record<string, { requests: number; rows: SubgraphFetchRow[] }> = {};
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

      const drain = async () => {
        const waited = await waitForDrain(target.gateway);
        if (waited > 2500) say(`  (waited ${(waited / 1000).toFixed(1)} s for the gateway to finish the requests still in flight)`);
      };
      if (opts.warmupS > 0) {
        say(`warm-up: MerchantFeatures, ${opts.connections} connections, ${opts.warmupS} s (not recorded)`);
        await runMerchantFeatures(target, merchantFeatures, merchants, { name: 'warm-up', connections: opts.connections, durationS: opts.warmupS });
        await drain();
      }
      for (const connections of [opts.connections, 1]) {
        const name = `MerchantFeatures, random merchant`;
        say(`${name}: ${connections} connection(s), ${opts.durationS} s`);
        const before = await scrapeGateway(target.gateway);
        const result = await runMerchantFeatures(target, merchantFeatures, merchants, { name, connections, durationS: opts.durationS });
        await drain();
        fetchRows[`MerchantFeatures ×${connections}`] = subgraphFetchDelta(before, await scrapeGateway(target.gateway), 'MerchantFeatures');
        load.push(result);
      }
    }
    let admin: AdminPageResult | null = null;
    if (opts.scenarios.has('admin')) {
      say(`AdminSubscriptions first: 1000: 2 warm-up runs, then ${opts.adminRuns} timed runs one after the other`);
      const before = await scrapeGateway(target.gateway);
      admin = await runAdminPage(target, adminSubscriptions, { runs: opts.adminRuns, warmup: 2, first: 1000 });
      fetchRows['AdminSubscriptions first: 1000'] = subgraphFetchDelta(before, await scrapeGateway(target.gateway), 'AdminSubscriptions');
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
    if (load.length) printLoad(load);
    if (admin) {
      say();
      printAdmin(admin);
    }
    if (ingestion) {
      say();
      printIngestion(ingestion);
    }
    for (const [title, rows] of Object.entries(fetchRows)) {
      say();
      printFetches(title, rows);
    }
    const bodies = [...load.flatMap((r) => r.firstErrorBodies), ...(admin?.firstErrorBodies ?? []), ...(ingestion?.firstErrorBodies ?? [])];
    if (bodies.length) {
      say();
      say('first error bodies:');
      for (const body of bodies) say(`  ${body}`);
    }

    const ingestionWrong = ingestion
      ? ingestion.errors + ingestion.totalsMismatched + ingestion.eventsMismatched + Math.abs(ingestion.duplicates - ingestion.duplicatesSent)
      : 0;
    const errors = load.reduce((n, r) => n + r.errors + r.non2xx + r.graphqlErrors + r.sampledBad, 0) + (admin?.errors ?? 0) + ingestionWrong;
    const loaded = load[0];
    const checks = [
      ...(loaded
        ? [{ what: `MerchantFeatures p95 ≤ ${TARGETS.merchantFeaturesP95Ms} ms at ${loaded.connections} connections`, value: loaded.p95, ok: loaded.p95 <= TARGETS.merchantFeaturesP95Ms }]
        : []),
      ...(admin ? [{ what: `admin page of 1,000 ≤ ${TARGETS.adminPageMs} ms (p95 of ${admin.requests} runs)`, value: admin.p95, ok: admin.p95 <= TARGETS.adminPageMs }] : []),
    ];
    if (ingestion) {
      say(
        `${ingestion.totalsMismatched + ingestion.eventsMismatched === 0 ? 'OK    ' : 'FAILED'} every merchant's total = its total before + its unique accepted events = its stored events (${ingestion.merchantsChecked} merchants)`,
      );
      say(`${ingestion.duplicates === ingestion.duplicatesSent ? 'OK    ' : 'FAILED'} repeats answered duplicate: ${ingestion.duplicates} of ${ingestion.duplicatesSent}`);
    }
    say();
    for (const c of checks) say(`${c.ok ? 'MET   ' : 'MISSED'} ${c.what}: ${ms(c.value)} ms`);
    say(`${errors === 0 ? 'OK    ' : 'FAILED'} errors: ${errors}`);

    const file = join(ROOT, BENCH_DATA_DIR, `results-${machine.date.replace(/[:.]/g, '-')}.json`);
    writeFileSync(
      file,
      JSON.stringify(
        { machine: { ...machine, loadAverageAtEnd }, options: { ...opts, scenarios: [...opts.scenarios] }, generationMs, counts, load, admin, ingestion, subgraphFetches: fetchRows, checks, errors },
        null,
        2,
      ),
    );
    say(`written to ${file}`);
    if (errors > 0) return 1;
    return opts.strict && checks.some((c) => !c.ok) ? 1 : 0;
  } finally {
    say('stopping the stack');
    await stack.stop();
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
