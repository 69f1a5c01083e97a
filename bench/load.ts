import type { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { Kind, parse } from 'graphql';

/** An operation's exact text as the contract (../shared/contract/operations.graphql) writes it. */
export function contractOperation(file: string, name: string): string {
  const source = readFileSync(file, 'utf8');
  const operation = parse(source).definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION && d.name?.value === name);
  if (!operation?.loc) throw new Error(`${file} has no operation ${name}`);
  return source.slice(operation.loc.start, operation.loc.end);
}

export function percentile(sorted: number[], q: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

export interface LatencySummary {
  requests: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export function summarize(latenciesMs: number[]): LatencySummary {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  return {
    requests: sorted.length,
    p50: percentile(sorted, 0.5),
    p95: percentile(sorted, 0.95),
    p99: percentile(sorted, 0.99),
    max: sorted[sorted.length - 1] ?? NaN,
    mean: sorted.reduce((a, b) => a + b, 0) / Math.max(sorted.length, 1),
  };
}

export interface GraphQLTarget {
  gateway: string;
  token: string;
}

export interface MerchantKey {
  merchantId: string;
  platformId: string;
  tierCode: string;
}

/**
 * When a warm-up is done: after at least `minS`, once the last `windows` windows of `windowS` seconds each are within
 * `tolerance` of their mean throughput without rising (last − first ≤ tolerance/2 of the mean).
 */
export interface UntilStable {
  windowS: number;
  windows: number;
  tolerance: number;
  minS?: number;
}

/**
 * Counts `completed()` every `windowS` and calls `onStable` once (see UntilStable); `windows` holds each window's
 * requests/s. `stop()` ends the counting (call it when the run ends, however it ends).
 */
export function watchStability(until: UntilStable, completed: () => number, onStable: () => void): { windows: number[]; stable: () => boolean; stop: () => void } {
  const { windowS, windows: n, tolerance, minS = 0 } = until;
  const windows: number[] = [];
  let stable = false;
  let seen = 0;
  const ticker = setInterval(() => {
    const done = completed();
    windows.push((done - seen) / windowS);
    seen = done;
    const last = windows.slice(-n);
    const mean = last.reduce((a, b) => a + b, 0) / last.length;
    // flat: every window near the mean, and no rise from the first of them to the last (JIT still warming)
    const flat = last.every((w) => Math.abs(w - mean) <= tolerance * mean) && last[last.length - 1] - last[0] <= (tolerance / 2) * mean;
    if (!stable && windows.length * windowS >= minS && last.length === n && mean > 0 && flat) {
      stable = true;
      onStable();
    }
  }, windowS * 1000);
  return { windows, stable: () => stable, stop: () => clearInterval(ticker) };
}

export interface LoadResult extends LatencySummary {
  name: string;
  connections: number;
  durationS: number;
  requestsPerSecond: number;
  /** Socket errors and timeouts. */
  errors: number;
  non2xx: number;
  /** 2xx answers whose body has `errors` or lacks `features`. */
  graphqlErrors: number;
  /** Every 50th answer, parsed and checked in full. */
  sampled: number;
  sampledBad: number;
  firstErrorBodies: string[];
  /** Requests sent (answered or still in flight when the run stopped): what CPU per request divides by. */
  sent: number;
  /** Every response's latency, ms (for percentiles over several slices). */
  latencies: number[];
  /** With `untilStable`: requests/s of each window, and whether it settled before maxS. */
  windows?: number[];
  stable?: boolean;
}

/** A well-formed MerchantFeatures answer: the subscription and its features, no `errors`. */
export function checkMerchantFeatures(body: string): string | null {
  let parsed: { data?: { merchant?: { subscription?: { features?: Array<{ code: string; current: number | null }> } } }; errors?: unknown[] };
  try {
    parsed = JSON.parse(body);
  } catch {
    return 'not JSON';
  }
  if (parsed.errors?.length) return 'errors';
  const features = parsed.data?.merchant?.subscription?.features;
  if (!features?.length) return 'no features';
  if (!features.some((f) => f.code === 'max_products' && typeof f.current === 'number')) return 'no max_products usage';
  return null;
}

/**
 * MerchantFeatures for a random merchant per request (autocannon `setupRequest` rewrites the body), with
 * `connections` connections for `durationS` seconds. Latencies are recorded per response, so p95 is exact
 * (autocannon's own summary has p50/p90/p97.5/p99 only).
 */
export async function runMerchantFeatures(
  target: GraphQLTarget,
  query: string,
  merchants: MerchantKey[],
  options: {
    name: string;
    connections: number;
    durationS: number;
    /** Warm-up mode: until throughput is stable (UntilStable), or for `durationS` at most. */
    untilStable?: UntilStable;
  },
): Promise<LoadResult> {
  const latencies: number[] = [];
  const firstErrorBodies: string[] = [];
  let sampleCounter = 0;
  let sampled = 0;
  let sampledBad = 0;
  const instance = autocannon({
    url: target.gateway,
    connections: options.connections,
    duration: options.durationS,
    timeout: 10,
    // a body that names errors, or lacks features, counts as a mismatch
    verifyBody: (body) => {
      const text = String(body ?? '');
      return !text.includes('"errors"') && text.includes('"features"');
    },
    requests: [
      {
        method: 'POST',
        path: '/graphql',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${target.token}` },
        setupRequest: (request) => {
          const merchant = merchants[Math.floor(Math.random() * merchants.length)];
          return {
            ...request,
            body: JSON.stringify({
              operationName: 'MerchantFeatures',
              query,
              variables: { merchantId: merchant.merchantId, platformId: merchant.platformId },
            }),
          };
        },
        onResponse: (status, body) => {
          if (++sampleCounter % 50 !== 0) return;
          sampled++;
          const problem = status === 200 ? checkMerchantFeatures(body) : `status ${status}`;
          if (problem) {
            sampledBad++;
            if (firstErrorBodies.length < 3) firstErrorBodies.push(`${problem}: ${body.slice(0, 1500)}`);
          }
        },
      },
    ],
  });
  // The typings name the 'response' listener's arguments without the client that autocannon passes first.
  const events = instance as unknown as EventEmitter;
  events.on('response', (_client: unknown, _status: number, _bytes: number, responseTimeMs: number) => latencies.push(responseTimeMs));
  events.on('reqMismatch', (body: string) => {
    if (firstErrorBodies.length < 3) firstErrorBodies.push(body.slice(0, 1500));
  });
  const stability = options.untilStable && watchStability(options.untilStable, () => latencies.length, () => (instance as unknown as { stop: () => void }).stop());
  const result = await instance;
  stability?.stop();
  return {
    sent: result.requests.sent,
    latencies,
    ...(stability ? { windows: stability.windows, stable: stability.stable() } : {}),
    name: options.name,
    connections: options.connections,
    durationS: options.durationS,
    ...summarize(latencies),
    requestsPerSecond: result.requests.total / (result.duration || options.durationS),
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    graphqlErrors: result.mismatches,
    sampled,
    sampledBad,
    firstErrorBodies,
  };
}

export interface AdminPageResult extends LatencySummary {
  name: string;
  /** Every timed run, ms (left out of the results file). */
  latencies: number[];
  totalCount: number;
  edges: number;
  bytes: number;
  errors: number;
  firstErrorBodies: string[];
}

/** AdminSubscriptions with first: 1000, `runs` times one after the other (after `warmup` untimed runs). */
export async function runAdminPage(target: GraphQLTarget, query: string, options: { runs: number; warmup: number; first: number }): Promise<AdminPageResult> {
  const latencies: number[] = [];
  const firstErrorBodies: string[] = [];
  let errors = 0;
  let totalCount = 0;
  let edges = 0;
  let bytes = 0;
  const body = JSON.stringify({ operationName: 'AdminSubscriptions', query, variables: { first: options.first } });
  for (let run = 0; run < options.warmup + options.runs; run++) {
    const started = performance.now();
    const response = await fetch(`${target.gateway}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${target.token}` },
      body,
    });
    const text = await response.text();
    const took = performance.now() - started;
    if (run < options.warmup) continue;
    latencies.push(took);
    bytes = text.length;
    let problem: string | null = response.ok ? null : `status ${response.status}`;
    try {
      const parsed = JSON.parse(text) as {
        data?: { merchantSubscriptions?: { totalCount: number; edges: Array<{ node: { features?: unknown[] } }> } };
        errors?: unknown[];
      };
      const page = parsed.data?.merchantSubscriptions;
      if (parsed.errors?.length) problem ??= 'errors';
      else if (!page) problem ??= 'no data';
      else {
        totalCount = page.totalCount;
        edges = page.edges.length;
        if (edges !== Math.min(options.first, totalCount)) problem ??= `${edges} edges for totalCount ${totalCount}`;
        if (page.edges.some((e) => !e.node.features?.length)) problem ??= 'a subscription without features';
      }
    } catch {
      problem ??= 'not JSON';
    }
    if (problem) {
      errors++;
      if (firstErrorBodies.length < 3) firstErrorBodies.push(`${problem}: ${text.slice(0, 1500)}`);
    }
  }
  return { name: `AdminSubscriptions first: ${options.first}`, ...summarize(latencies), latencies, totalCount, edges, bytes, errors, firstErrorBodies };
}

/** Several slices of the same page as one: every run's latency, every error. */
export function poolAdminRuns(slices: AdminPageResult[]): AdminPageResult {
  const latencies = slices.flatMap((s) => s.latencies);
  const last = slices[slices.length - 1];
  return {
    ...last,
    ...summarize(latencies),
    latencies,
    errors: slices.reduce((n, s) => n + s.errors, 0),
    firstErrorBodies: slices.flatMap((s) => s.firstErrorBodies).slice(0, 3),
  };
}

// ───────────── the gateway's /metrics: subgraph fetch histogram and requests per operation ─────────────

export interface GatewaySnapshot {
  /** tiergraph_gateway_subgraph_fetch_duration_seconds per subgraph */
  subgraphs: Record<string, { count: number; sum: number; buckets: Array<[number, number]> }>;
  /** tiergraph_gateway_requests_total per operation */
  operations: Record<string, number>;
}

const FETCH_METRIC = 'tiergraph_gateway_subgraph_fetch_duration_seconds';
const REQUESTS_METRIC = 'tiergraph_gateway_requests_total';

export async function scrapeGateway(gateway: string): Promise<GatewaySnapshot> {
  const text = await (await fetch(`${gateway}/metrics`)).text();
  const snapshot: GatewaySnapshot = { subgraphs: {}, operations: {} };
  const entry = (subgraph: string) => (snapshot.subgraphs[subgraph] ??= { count: 0, sum: 0, buckets: [] });
  for (const line of text.split('\n')) {
    const match = /^(\w+)\{([^}]*)\}\s+(\S+)$/.exec(line);
    if (!match) continue;
    const labels = Object.fromEntries([...match[2].matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    const value = Number(match[3]);
    if (match[1] === REQUESTS_METRIC && labels.operation) snapshot.operations[labels.operation] = value;
    if (!labels.subgraph) continue;
    if (match[1] === `${FETCH_METRIC}_sum`) entry(labels.subgraph).sum = value;
    else if (match[1] === `${FETCH_METRIC}_count`) entry(labels.subgraph).count = value;
    else if (match[1] === `${FETCH_METRIC}_bucket` && labels.le !== '+Inf') entry(labels.subgraph).buckets.push([Number(labels.le), value]);
  }
  return snapshot;
}

/**
 * Waits until the gateway has finished what a load run left in flight (autocannon stops sending at the deadline;
 * the gateway still answers the requests it has): the request counter is the same twice, a second apart.
 */
export async function waitForDrain(gateway: string, maxMs = 60_000): Promise<number> {
  const started = Date.now();
  let last = -1;
  while (Date.now() - started < maxMs) {
    const snapshot = await scrapeGateway(gateway);
    const total = Object.values(snapshot.operations).reduce((a, b) => a + b, 0);
    if (total === last) break;
    last = total;
    await new Promise((r) => setTimeout(r, 1000));
  }
  return Date.now() - started;
}

export interface SubgraphFetchRow {
  subgraph: string;
  fetches: number;
  perRequest: number;
  meanMs: number;
  /** The upper bound of the histogram bucket holding the 95th percentile (the histogram's resolution). */
  p95BucketMs: number | null;
}

/**
 * What happened between two scrapes: fetches per subgraph, per gateway request of `operation` (counted by the
 * gateway, so requests still in flight when the client stopped count too), mean and ~p95 latency.
 */
export function subgraphFetchDelta(before: GatewaySnapshot, after: GatewaySnapshot, operation: string): { requests: number; rows: SubgraphFetchRow[] } {
  const requests = (after.operations[operation] ?? 0) - (before.operations[operation] ?? 0);
  const rows = Object.keys(after.subgraphs)
    .map((subgraph) => {
      const a = after.subgraphs[subgraph];
      const b = before.subgraphs[subgraph] ?? { count: 0, sum: 0, buckets: [] };
      const fetches = a.count - b.count;
      const buckets = a.buckets.map(([le, n]) => [le, n - (b.buckets.find(([l]) => l === le)?.[1] ?? 0)] as const);
      const p95 = buckets.find(([, n]) => n >= fetches * 0.95);
      return {
        subgraph,
        fetches,
        perRequest: fetches / Math.max(requests, 1),
        meanMs: fetches ? ((a.sum - b.sum) / fetches) * 1000 : 0,
        p95BucketMs: p95 ? p95[0] * 1000 : null,
      };
    })
    .filter((row) => row.fetches > 0)
    .sort((x, y) => y.fetches * y.meanMs - x.fetches * x.meanMs);
  return { requests, rows };
}
