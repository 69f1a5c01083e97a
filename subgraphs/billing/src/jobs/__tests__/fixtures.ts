import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DataSource } from 'typeorm';
import type { MerchantPlatform } from '@tiergraph/runtime';

/** Rows the job tests write straight into billing's tables, as the other writers would have left them. */
export interface SubscriptionSeed {
  tierCode?: string;
  status?: 'TRIAL' | 'ACTIVE' | 'PAST_DUE' | 'CANCELLED' | 'EXPIRED';
  billingCycle?: 'MONTHLY' | 'ANNUAL';
  periodStart: Date;
  periodEnd: Date;
  trialEndsAt?: Date | null;
  cancelAtPeriodEnd?: boolean;
  cancelledAt?: Date | null;
  stripeCustomerId?: string | null;
  stripeSubscriptionId?: string | null;
  stripeStateAt?: Date | null;
  updatedAt?: Date;
}

export interface SeededSubscription extends MerchantPlatform {
  id: string;
}

export async function insertSubscription(db: DataSource, seed: SubscriptionSeed): Promise<SeededSubscription> {
  const pair = { merchantId: randomUUID(), platformId: randomUUID() };
  const [row]: Array<{ id: string }> = await db.query(
    `INSERT INTO billing.merchant_subscriptions (merchant_id, platform_id, merchant_name, tier_id, status, billing_cycle,
       current_period_start, current_period_end, trial_ends_at, cancel_at_period_end, cancelled_at, stripe_customer_id,
       stripe_subscription_id, stripe_state_at, created_at, updated_at)
     SELECT $1::uuid, $2::uuid, 'Shop ' || left($1::text, 8), t.id, $4, $5, $6::timestamptz, $7, $8, $9, $10, $11, $12, $13, $6::timestamptz, coalesce($14, $6::timestamptz)
       FROM billing.subscription_tiers t WHERE t.code = $3
     RETURNING id`,
    [
      pair.merchantId,
      pair.platformId,
      seed.tierCode ?? 'essential',
      seed.status ?? 'ACTIVE',
      seed.billingCycle ?? 'MONTHLY',
      seed.periodStart,
      seed.periodEnd,
      seed.trialEndsAt ?? null,
      seed.cancelAtPeriodEnd ?? false,
      seed.cancelledAt ?? null,
      seed.stripeCustomerId ?? null,
      seed.stripeSubscriptionId ?? null,
      seed.stripeStateAt ?? null,
      seed.updatedAt ?? null,
    ],
  );
  return { ...pair, id: row.id };
}

export const METERED = 'ai_tokens_per_month';

/**
 * A metered feature's usage in one period, as recordUsage leaves it: one event per day (quantity), the daily totals,
 * the period total, and a 50 % threshold crossing.
 */
export async function insertUsage(db: DataSource, pair: MerchantPlatform, period: { start: Date; end: Date }, days: Array<[day: string, quantity: number]>): Promise<void> {
  const used = days.reduce((sum, [, q]) => sum + q, 0);
  for (const [day, quantity] of days) {
    await db.query(
      `INSERT INTO billing.usage_events (merchant_id, platform_id, store_id, feature_code, idempotency_key, quantity, occurred_at, period_start, recorded_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $7)`,
      [pair.merchantId, pair.platformId, randomUUID(), METERED, `k-${randomUUID()}`, quantity, `${day}T12:00:00Z`, period.start],
    );
    await db.query(
      `INSERT INTO billing.usage_daily_totals (merchant_id, platform_id, feature_code, period_start, day, quantity, events) VALUES ($1, $2, $3, $4, $5, $6, 1)`,
      [pair.merchantId, pair.platformId, METERED, period.start, day, quantity],
    );
  }
  await db.query(
    `INSERT INTO billing.usage_period_totals (merchant_id, platform_id, feature_code, period_start, period_end, used, events, allocated, tier_code)
     VALUES ($1, $2, $3, $4, $5, $6, $7, 1000, 'essential')`,
    [pair.merchantId, pair.platformId, METERED, period.start, period.end, used, days.length],
  );
  await db.query(
    `INSERT INTO billing.usage_threshold_crossings (merchant_id, platform_id, feature_code, period_start, threshold, used, allocated, crossed_at)
     VALUES ($1, $2, $3, $4, 50, $5, 1000, $4)`,
    [pair.merchantId, pair.platformId, METERED, period.start, used],
  );
}

export async function insertInvoice(db: DataSource, pair: MerchantPlatform, number: string): Promise<void> {
  await db.query(
    `INSERT INTO billing.billing_history (merchant_id, platform_id, stripe_invoice_id, number, status, amount_due_cents, amount_paid_cents, currency)
     VALUES ($1, $2, $3, $3, 'paid', 4900, 4900, 'EUR')`,
    [pair.merchantId, pair.platformId, number],
  );
}

/** The stored subscription row, every column (for "nothing changed" comparisons). */
export async function subscriptionRow(db: DataSource, pair: MerchantPlatform): Promise<Record<string, any>> {
  const [row] = await db.query(`SELECT * FROM billing.merchant_subscriptions WHERE merchant_id = $1 AND platform_id = $2`, [pair.merchantId, pair.platformId]);
  return row;
}

export async function historyRows(db: DataSource, subscriptionId: string): Promise<Array<Record<string, any>>> {
  return db.query(
    `SELECT change, from_tier_code, to_tier_code, from_status, to_status, reason, actor, changed_at FROM billing.subscription_history
      WHERE subscription_id = $1 ORDER BY seq`,
    [subscriptionId],
  );
}

export async function summaries(db: DataSource, pair: MerchantPlatform): Promise<Array<Record<string, any>>> {
  return db.query(
    `SELECT feature_code, period_start, period_end, used::int, events, to_char(peak_day, 'YYYY-MM-DD') AS peak_day, peak_day_quantity::int, closed_at
       FROM billing.usage_period_summaries WHERE merchant_id = $1 AND platform_id = $2 ORDER BY period_start`,
    [pair.merchantId, pair.platformId],
  );
}

/** How many rows of each usage table the pair has (and of its history and invoices). */
export async function rowCounts(db: DataSource, pair: MerchantPlatform & { id: string }): Promise<Record<string, number>> {
  const [row] = await db.query(
    `SELECT
       (SELECT count(*) FROM billing.usage_events WHERE merchant_id = $1 AND platform_id = $2)::int AS events,
       (SELECT count(*) FROM billing.usage_daily_totals WHERE merchant_id = $1 AND platform_id = $2)::int AS "dailyTotals",
       (SELECT count(*) FROM billing.usage_threshold_crossings WHERE merchant_id = $1 AND platform_id = $2)::int AS crossings,
       (SELECT count(*) FROM billing.usage_period_totals WHERE merchant_id = $1 AND platform_id = $2)::int AS "periodTotals",
       (SELECT count(*) FROM billing.usage_period_summaries WHERE merchant_id = $1 AND platform_id = $2)::int AS summaries,
       (SELECT count(*) FROM billing.subscription_history WHERE subscription_id = $3)::int AS history,
       (SELECT count(*) FROM billing.billing_history WHERE merchant_id = $1 AND platform_id = $2)::int AS invoices,
       (SELECT count(*) FROM billing.merchant_subscriptions WHERE id = $3)::int AS subscriptions`,
    [pair.merchantId, pair.platformId, pair.id],
  );
  return row;
}

export interface FakeMonitoring {
  url: string;
  /** The role of each request's bearer token, in order. */
  roles: string[];
  /** The operations received. */
  queries: string[];
  stop(): Promise<void>;
}

/**
 * A small real HTTP server answering the contract's CaptureCapacitySnapshot as monitoring will: one snapshot per
 * UTC day (a second capture that day answers the same one). Stands in while monitoring's mutation is being built.
 */
export async function startFakeMonitoring(today: () => string = () => new Date().toISOString().slice(0, 10)): Promise<FakeMonitoring> {
  const roles: string[] = [];
  const queries: string[] = [];
  const byDay = new Map<string, Record<string, unknown>>();
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { query: string };
      queries.push(body.query);
      const token = (request.headers.authorization ?? '').replace(/^Bearer /, '');
      const role = String(JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8') || '{}').role);
      roles.push(role);
      response.setHeader('content-type', 'application/json');
      if (role !== 'service' && role !== 'admin') {
        response.end(JSON.stringify({ data: null, errors: [{ message: 'this operation needs the admin role', extensions: { code: 'FORBIDDEN' } }] }));
        return;
      }
      const day = today();
      if (!byDay.has(day)) {
        byDay.set(day, {
          id: randomUUID(),
          snapshotDate: day,
          totalStores: 12,
          activeStores: 10,
          trialStores: 2,
          totalSubscriptions: 11,
          activeSubscriptions: 9,
          totalProducts: 340,
          totalOrdersMonth: 55,
          totalTeamMembers: 4,
          storageUsedGb: 1.5,
          dbSizeMb: 42,
          theoreticalProductsLimit: 2200,
          theoreticalOrdersLimit: 1100,
          theoreticalTeamLimit: 11,
          tierDistribution: [{ tierCode: 'essential', count: 11 }],
        });
      }
      response.end(JSON.stringify({ data: { captureCapacitySnapshot: byDay.get(day) } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    roles,
    queries,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
