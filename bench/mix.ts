/**
 * The read/write mix (issue 12): `connections` clients in closed loops through the gateway, 95 % MerchantFeatures
 * for a random merchant and 5 % writes — CreateProduct, PlaceOrder or SetMerchantFeatureOverrides — on the merchant
 * the client read last. The client's next request reads that merchant again and checks that the write shows:
 * products / orders of the period at least one more than before the write, the override's limit exactly (unless
 * another client set that merchant's overrides in between). A read that does not show it is a stale read.
 * A write refused by a limit (the bench's limited merchants sit at 90–100 % of their quotas) is counted by code
 * and not checked.
 */
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { createHttpFetcher, subgraphAgent } from '../gateway/src/http-fetcher';
import { summarize, watchStability, type LatencySummary, type MerchantKey, type UntilStable } from './load';

export interface MixMerchant extends MerchantKey {
  storeId: string;
  productId: string;
}

export interface MixResult {
  name: string;
  connections: number;
  durationS: number;
  requests: number;
  requestsPerSecond: number;
  reads: LatencySummary;
  writes: LatencySummary & { byKind: Record<string, number> };
  all: LatencySummary;
  refused: Record<string, number>;
  /** Reads right after a write that were checked against it. */
  checked: number;
  stale: number;
  /** Checks skipped because another client wrote the same merchant's overrides meanwhile. */
  skipped: number;
  errors: number;
  /** Merchants read at least once in the slice (with one token: the distinct cache keys it asked for). */
  distinctMerchants: number;
  /** Reads of a merchant not read before in the slice (a miss unless the cache was warm). */
  firstReads: number;
  /** With `untilStable`: requests/s of each window, and whether it settled before `durationS`. */
  windows?: number[];
  stable?: boolean;
  firstProblems: string[];
}

/** One store and one active product per bench merchant: what CreateProduct and PlaceOrder write to. */
export async function mixMerchantsOf(databaseUrl: string, merchants: MerchantKey[]): Promise<MixMerchant[]> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ merchant_id: string; store_id: string; id: string }>(
      `SELECT DISTINCT ON (merchant_id) merchant_id, store_id, id FROM catalog.products
        WHERE deleted_at IS NULL AND is_active ORDER BY merchant_id, id`,
    );
    const byMerchant = new Map(rows.map((r) => [r.merchant_id, r]));
    return merchants.flatMap((m) => {
      const row = byMerchant.get(m.merchantId);
      return row ? [{ ...m, storeId: row.store_id, productId: row.id }] : [];
    });
  } finally {
    await client.end();
  }
}

const CREATE_PRODUCT = `mutation CreateProduct($input: CreateProductInput!) { createProduct(input: $input) { id } }`;
const PLACE_ORDER = `mutation PlaceOrder($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }`;
const SET_OVERRIDES = `mutation SetMerchantFeatureOverrides($merchantId: ID!, $platformId: ID!, $overrides: [MerchantFeatureOverrideInput!]!) {
  setMerchantFeatureOverrides(merchantId: $merchantId, platformId: $platformId, overrides: $overrides) { featureCode limitValue isEnabled }
}`;

interface Feature {
  code: string;
  limit: number | null;
  current: number | null;
  enabled: boolean;
  isOverride: boolean;
}

type Expectation =
  | { kind: 'CreateProduct'; merchant: MixMerchant; atLeast: number }
  | { kind: 'PlaceOrder'; merchant: MixMerchant; atLeast: number }
  | { kind: 'SetMerchantFeatureOverrides'; merchant: MixMerchant; limit: number; seq: number };

export async function runMix(
  target: { gateway: string; token: string },
  query: string,
  merchants: MixMerchant[],
  options: {
    connections: number;
    durationS: number;
    writeShare: number;
    /** Warm-up mode (as load.ts's): until throughput is stable (UntilStable), or `durationS` at most. */
    untilStable?: UntilStable;
  },
): Promise<MixResult> {
  const agent = subgraphAgent();
  const post = createHttpFetcher({ timeoutMs: 30_000, agent });
  const url = `${target.gateway}/graphql`;
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${target.token}` };
  const run = randomUUID().slice(0, 8);
  const readLatencies: number[] = [];
  const writeLatencies: number[] = [];
  const byKind: Record<string, number> = {};
  const refused: Record<string, number> = {};
  const lastOverrideSeq = new Map<string, number>();
  const firstProblems: string[] = [];
  let seq = 0;
  let checked = 0;
  let stale = 0;
  let skipped = 0;
  let errors = 0;
  const readMerchants = new Set<string>();
  let firstReads = 0;
  const problem = (text: string) => firstProblems.length < 5 && firstProblems.push(text.slice(0, 1200));

  const ask = async (body: object, into: number[]) => {
    const started = performance.now();
    const response = await post(url, { method: 'POST', headers, body: JSON.stringify(body) });
    const text = await response.text();
    into.push(performance.now() - started);
    let parsed: { data?: Record<string, unknown> | null; errors?: Array<{ message: string; extensions?: { code?: string } }> };
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = { errors: [{ message: `not JSON (status ${response.status}): ${text.slice(0, 200)}` }] };
    }
    return parsed;
  };
  const read = async (merchant: MixMerchant): Promise<Map<string, Feature> | null> => {
    if (!readMerchants.has(merchant.merchantId)) (readMerchants.add(merchant.merchantId), firstReads++);
    const answer = await ask({ operationName: 'MerchantFeatures', query, variables: { merchantId: merchant.merchantId, platformId: merchant.platformId } }, readLatencies);
    const features = (answer.data?.merchant as { subscription?: { features?: Feature[] } } | undefined)?.subscription?.features;
    if (answer.errors?.length || !features) {
      errors++;
      problem(`read: ${JSON.stringify(answer).slice(0, 800)}`);
      return null;
    }
    return new Map(features.map((f) => [f.code, f]));
  };

  let deadline = Date.now() + options.durationS * 1000;
  // every client stops after its request in flight once the throughput is stable
  const stability = options.untilStable && watchStability(options.untilStable, () => readLatencies.length + writeLatencies.length, () => (deadline = 0));
  const clientLoop = async () => {
    type Seen = { merchant: MixMerchant; features: Map<string, Feature> };
    let last: Seen | null = null as Seen | null;
    let expectation: Expectation | null = null;
    while (Date.now() < deadline) {
      try {
        if (expectation) {
          const e: Expectation = expectation;
          expectation = null;
          const features = await read(e.merchant);
          if (!features) continue;
          last = { merchant: e.merchant, features };
          if (e.kind === 'SetMerchantFeatureOverrides' && lastOverrideSeq.get(e.merchant.merchantId) !== e.seq) {
            skipped++;
            continue;
          }
          checked++;
          const f =
            e.kind === 'CreateProduct' ? features.get('max_products') : e.kind === 'PlaceOrder' ? features.get('max_orders_per_month') : features.get('ai_tokens_per_month');
          const ok = e.kind === 'SetMerchantFeatureOverrides' ? f?.limit === e.limit && f.isOverride : (f?.current ?? -1) >= e.atLeast;
          if (!ok) {
            stale++;
            problem(`stale after ${e.kind} on ${e.merchant.merchantId}: expected ${JSON.stringify(e.kind === 'SetMerchantFeatureOverrides' ? { limit: e.limit } : { atLeast: e.atLeast })}, read ${JSON.stringify(f)}`);
          }
          continue;
        }
        if (last && Math.random() < options.writeShare) {
          const { merchant, features }: Seen = last;
          const kinds = ['CreateProduct', 'PlaceOrder', 'SetMerchantFeatureOverrides'] as const;
          const kind = kinds[Math.floor(Math.random() * kinds.length)];
          const n = ++seq;
          byKind[kind] = (byKind[kind] ?? 0) + 1;
          let answer;
          if (kind === 'CreateProduct') {
            answer = await ask(
              { operationName: kind, query: CREATE_PRODUCT, variables: { input: { storeId: merchant.storeId, sku: `mix-${run}-${n}`, name: `Mix ${n}`, priceCents: 100 } } },
              writeLatencies,
            );
          } else if (kind === 'PlaceOrder') {
            answer = await ask(
              { operationName: kind, query: PLACE_ORDER, variables: { input: { storeId: merchant.storeId, items: [{ productId: merchant.productId, quantity: 1 }] } } },
              writeLatencies,
            );
          } else {
            // the merchant's other overrides stay (the mutation removes what it does not list)
            const limit = 1_000_000 + n;
            const keep = [...features.values()]
              .filter((f) => f.isOverride && f.code !== 'ai_tokens_per_month')
              .map((f) => ({ featureCode: f.code, limitValue: f.limit, isEnabled: f.enabled }));
            lastOverrideSeq.set(merchant.merchantId, n);
            answer = await ask(
              {
                operationName: kind,
                query: SET_OVERRIDES,
                variables: { merchantId: merchant.merchantId, platformId: merchant.platformId, overrides: [...keep, { featureCode: 'ai_tokens_per_month', limitValue: limit, isEnabled: true }] },
              },
              writeLatencies,
            );
            if (!answer.errors?.length) expectation = { kind, merchant, limit, seq: n };
          }
          if (answer.errors?.length) {
            const code = answer.errors[0].extensions?.code ?? 'UNKNOWN';
            if (code === 'INTERNAL_SERVER_ERROR' || code === 'SUBGRAPH_UNAVAILABLE' || code === 'UNKNOWN') {
              errors++;
              problem(`${kind}: ${JSON.stringify(answer.errors).slice(0, 600)}`);
            } else refused[`${kind} ${code}`] = (refused[`${kind} ${code}`] ?? 0) + 1;
            expectation = null;
          } else if (kind === 'CreateProduct') expectation = { kind, merchant, atLeast: (features.get('max_products')?.current ?? 0) + 1 };
          else if (kind === 'PlaceOrder') expectation = { kind, merchant, atLeast: (features.get('max_orders_per_month')?.current ?? 0) + 1 };
          continue;
        }
        const merchant = merchants[Math.floor(Math.random() * merchants.length)];
        const features = await read(merchant);
        if (features) last = { merchant, features };
      } catch (error) {
        errors++;
        problem(`request failed: ${(error as Error).message}`);
      }
    }
  };
  const started = performance.now();
  try {
    await Promise.all(Array.from({ length: options.connections }, clientLoop));
  } finally {
    stability?.stop();
  }
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  const requests = readLatencies.length + writeLatencies.length;
  return {
    name: `mix ${Math.round((1 - options.writeShare) * 100)} % MerchantFeatures / ${Math.round(options.writeShare * 100)} % writes`,
    connections: options.connections,
    durationS: options.durationS,
    requests,
    requestsPerSecond: requests / seconds,
    reads: summarize(readLatencies),
    writes: { ...summarize(writeLatencies), byKind },
    all: summarize([...readLatencies, ...writeLatencies]),
    refused,
    checked,
    stale,
    skipped,
    errors,
    distinctMerchants: readMerchants.size,
    firstReads,
    ...(stability ? { windows: stability.windows, stable: stability.stable() } : {}),
    firstProblems,
  };
}

export interface BypassStaleness {
  samples: number;
  /**
   * ms from the direct write's answer (committed, NOTIFY sent) to the start of the first gateway request that was
   * answered with it: the entry was evicted by then (the lookup is the first thing a request does), so this bounds
   * the window in which the gateway could answer stale, to within one polling step (a hit takes a few ms).
   */
  p50: number;
  p95: number;
  max: number;
  /** ms from the direct write's answer to the fresh answer's arrival (adds one uncached MerchantFeatures). */
  receivedP95: number;
  /** Cached (stale) answers the gateway gave in between, over all samples. */
  staleAnswers: number;
  /** Samples whose read before the write was answered from the cache (x-tiergraph-cache: hit): the ones that test it. */
  cachedBefore: number;
  timeouts: number;
}

/**
 * The staleness after a write that bypasses the gateway: per sample, MerchantFeatures through the gateway twice (so the
 * answer is cached), then CreateProduct straight to catalog's subgraph (no gateway sees its answer; the counter
 * trigger's NOTIFY is the only way the gateway can learn of it), then MerchantFeatures through the gateway every ~1 ms
 * until it shows the product. Measured from the moment the direct write answered to the first fresh answer.
 */
export async function measureBypassStaleness(
  target: { gateway: string; token: string },
  catalogUrl: string,
  query: string,
  merchants: MixMerchant[],
  samples: number,
  timeoutMs = 2000,
): Promise<BypassStaleness> {
  const agent = subgraphAgent();
  const post = createHttpFetcher({ timeoutMs: 30_000, agent });
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${target.token}` };
  const run = randomUUID().slice(0, 8);
  let lastHit = false;
  const products = async (m: MixMerchant): Promise<number> => {
    const response = await post(`${target.gateway}/graphql`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ operationName: 'MerchantFeatures', query, variables: { merchantId: m.merchantId, platformId: m.platformId } }),
    });
    lastHit = response.headers.get('x-tiergraph-cache') === 'hit';
    const answer = JSON.parse(await response.text()) as { data?: { merchant?: { subscription?: { features?: Feature[] } } } };
    return answer.data?.merchant?.subscription?.features?.find((f) => f.code === 'max_products')?.current ?? -1;
  };
  const times: number[] = [];
  const received: number[] = [];
  let staleAnswers = 0;
  let timeouts = 0;
  let cachedBefore = 0;
  // the unlimited merchants: a write never refused by a limit
  const candidates = merchants.filter((m) => m.tierCode === 'enterprise');
  for (let i = 0; i < samples; i++) {
    const m = (candidates.length ? candidates : merchants)[i % (candidates.length || merchants.length)];
    await products(m);
    const before = await products(m);
    // -1: the read failed, and any answer after the write would count as fresh
    if (before < 0) throw new Error(`MerchantFeatures for merchant ${m.merchantId} answered no max_products before the bypass write`);
    if (lastHit) cachedBefore++;
    const written = await post(catalogUrl, {
      method: 'POST',
      headers,
      body: JSON.stringify({ query: CREATE_PRODUCT, variables: { input: { storeId: m.storeId, sku: `bypass-${run}-${i}`, name: 'Bypass', priceCents: 1 } } }),
    });
    const text = await written.text();
    const committed = performance.now();
    if (text.includes('"errors"')) throw new Error(`direct CreateProduct failed: ${text.slice(0, 400)}`);
    for (;;) {
      const asked = performance.now();
      const current = await products(m);
      if (current >= before + 1) {
        times.push(Math.max(0, asked - committed));
        received.push(performance.now() - committed);
        break;
      }
      staleAnswers++;
      if (performance.now() - committed > timeoutMs) {
        timeouts++;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }
  agent.destroy();
  const s = summarize(times);
  return { samples, p50: s.p50, p95: s.p95, max: s.max, receivedP95: summarize(received).p95, staleAnswers, cachedBefore, timeouts };
}
