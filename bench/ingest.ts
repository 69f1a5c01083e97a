import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { summarize, type GraphQLTarget, type LatencySummary } from './load';
import { Random } from './random';

/** A store as the ingestion scenario sends events for it. */
export interface IngestStore {
  storeId: string;
  merchantId: string;
  platformId: string;
}

export interface IngestOptions {
  durationS: number;
  /** Batches in flight at once. */
  workers: number;
  batchSize: number;
  /** Share of each batch that repeats an event already accepted (same key, same payload). */
  duplicateRate: number;
  featureCode: string;
}

export interface IngestResult extends LatencySummary {
  name: string;
  batches: number;
  eventsSent: number;
  accepted: number;
  duplicates: number;
  /** Duplicates the bench sent, as it counted them: every one must come back duplicate: true. */
  duplicatesSent: number;
  refused: number;
  refusedByCode: Record<string, number>;
  acceptedPerSecond: number;
  eventsPerSecond: number;
  errors: number;
  firstErrorBodies: string[];
  /** Merchants whose stored total is not their baseline plus the sum of their unique accepted events. */
  totalsMismatched: number;
  /** Merchants whose stored total is not the sum of their stored events of the period. */
  eventsMismatched: number;
  merchantsChecked: number;
}

const RECORD_BATCH = `mutation RecordUsageBatch($events: [RecordUsageInput!]!) {
  recordUsageBatch(events: $events) {
    accepted duplicates refused
    results { idempotencyKey accepted duplicate errorCode current limit remaining }
  }
}`;

export async function storesOf(databaseUrl: string): Promise<IngestStore[]> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query(`SELECT id AS "storeId", merchant_id AS "merchantId", platform_id AS "platformId" FROM tenancy.stores ORDER BY id`);
    return rows;
  } finally {
    await client.end();
  }
}

/** Each merchant's total in its current period, as billing stores it, and the sum of its stored events there. */
async function totalsOf(databaseUrl: string, featureCode: string): Promise<Map<string, { total: number; events: number }>> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    // the newest period of each merchant, its stored total, and the sum of its stored events there (set-wise)
    const { rows } = await client.query(
      `WITH latest AS (
         SELECT DISTINCT ON (merchant_id, platform_id) merchant_id, platform_id, period_start, used
           FROM billing.usage_period_totals WHERE feature_code = $1
          ORDER BY merchant_id, platform_id, period_start DESC),
       events AS (
         SELECT e.merchant_id, e.platform_id, sum(e.quantity) AS quantity
           FROM billing.usage_events e JOIN latest l USING (merchant_id, platform_id, period_start)
          WHERE e.feature_code = $1 GROUP BY 1, 2)
       SELECT s.merchant_id, coalesce(l.used, 0)::bigint AS total, coalesce(e.quantity, 0)::bigint AS events
         FROM billing.merchant_subscriptions s
         LEFT JOIN latest l ON l.merchant_id = s.merchant_id AND l.platform_id = s.platform_id
         LEFT JOIN events e ON e.merchant_id = s.merchant_id AND e.platform_id = s.platform_id`,
      [featureCode],
    );
    return new Map(rows.map((r) => [r.merchant_id as string, { total: Number(r.total), events: Number(r.events) }]));
  } finally {
    await client.end();
  }
}

/**
 * recordUsageBatch through the gateway: `workers` loops, each sending batches of `batchSize` events one after the
 * other for `durationS` seconds, events for random stores of every merchant, `duplicateRate` of each batch
 * repeating events accepted earlier. Afterwards every merchant's stored total must be its total before plus the
 * sum of the unique events the answers accepted, and must equal the sum of its stored events.
 */
export async function runIngestion(target: GraphQLTarget, databaseUrl: string, stores: IngestStore[], options: IngestOptions): Promise<IngestResult> {
  const baseline = await totalsOf(databaseUrl, options.featureCode);
  const rng = new Random(20261201);
  const run = Date.now().toString(36);
  const acceptedEvents: Array<{ storeId: string; featureCode: string; quantity: number; idempotencyKey: string }> = [];
  const acceptedByMerchant = new Map<string, number>();
  const merchantOf = new Map(stores.map((s) => [s.storeId, s.merchantId]));
  const latencies: number[] = [];
  const refusedByCode: Record<string, number> = {};
  const firstErrorBodies: string[] = [];
  let sequence = 0;
  let eventsSent = 0;
  let accepted = 0;
  let duplicates = 0;
  let duplicatesSent = 0;
  let refused = 0;
  let errors = 0;
  let batches = 0;
  const started = performance.now();
  const deadline = started + options.durationS * 1000;

  const worker = async () => {
    while (performance.now() < deadline) {
      const repeats = Math.min(acceptedEvents.length, Math.round(options.batchSize * options.duplicateRate));
      const events: Array<{ storeId: string; featureCode: string; quantity: number; idempotencyKey: string }> = [];
      const repeated = new Set<string>();
      for (let i = 0; i < repeats; i++) {
        const event = acceptedEvents[rng.int(0, acceptedEvents.length - 1)];
        if (repeated.has(event.idempotencyKey)) continue;
        repeated.add(event.idempotencyKey);
        events.push(event);
      }
      const sentDuplicates = events.length;
      while (events.length < options.batchSize) {
        const store = stores[rng.int(0, stores.length - 1)];
        events.push({ storeId: store.storeId, featureCode: options.featureCode, quantity: rng.int(1, 200), idempotencyKey: `bench-${run}-${sequence++}` });
      }
      // repeats spread through the batch, as retries arrive
      for (let i = events.length - 1; i > 0; i--) {
        const j = rng.int(0, i);
        [events[i], events[j]] = [events[j], events[i]];
      }
      const t0 = performance.now();
      let body: any;
      try {
        const response = await fetch(`${target.gateway}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${target.token}` },
          body: JSON.stringify({ operationName: 'RecordUsageBatch', query: RECORD_BATCH, variables: { events } }),
        });
        const text = await response.text();
        latencies.push(performance.now() - t0);
        body = JSON.parse(text);
        if (!response.ok || body.errors?.length) {
          errors++;
          if (firstErrorBodies.length < 3) firstErrorBodies.push(text.slice(0, 500));
          continue;
        }
      } catch (error) {
        errors++;
        if (firstErrorBodies.length < 3) firstErrorBodies.push(String(error));
        continue;
      }
      batches++;
      eventsSent += events.length;
      duplicatesSent += sentDuplicates;
      const answer = body.data.recordUsageBatch;
      answer.results.forEach((result: { accepted: boolean; duplicate: boolean; errorCode: string | null }, i: number) => {
        const event = events[i];
        if (result.duplicate) duplicates++;
        else if (result.accepted) {
          accepted++;
          acceptedEvents.push(event);
          const merchant = merchantOf.get(event.storeId)!;
          acceptedByMerchant.set(merchant, (acceptedByMerchant.get(merchant) ?? 0) + event.quantity);
        } else {
          refused++;
          refusedByCode[result.errorCode ?? 'null'] = (refusedByCode[result.errorCode ?? 'null'] ?? 0) + 1;
        }
      });
    }
  };
  await Promise.all(Array.from({ length: options.workers }, worker));
  const elapsedS = (performance.now() - started) / 1000;

  const after = await totalsOf(databaseUrl, options.featureCode);
  let totalsMismatched = 0;
  let eventsMismatched = 0;
  for (const [merchant, { total, events }] of after) {
    const expected = (baseline.get(merchant)?.total ?? 0) + (acceptedByMerchant.get(merchant) ?? 0);
    if (total !== expected) totalsMismatched++;
    if (total !== events) eventsMismatched++;
  }
  return {
    name: `recordUsageBatch ×${options.batchSize}, ${Math.round(options.duplicateRate * 100)} % repeats`,
    ...summarize(latencies),
    batches,
    eventsSent,
    accepted,
    duplicates,
    duplicatesSent,
    refused,
    refusedByCode,
    acceptedPerSecond: accepted / elapsedS,
    eventsPerSecond: eventsSent / elapsedS,
    errors,
    firstErrorBodies,
    totalsMismatched,
    eventsMismatched,
    merchantsChecked: after.size,
  };
}
