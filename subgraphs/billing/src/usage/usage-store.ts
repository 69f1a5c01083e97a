import DataLoader from 'dataloader';
import { groupUnder, notifyTagsChanged, tag, type FeatureUsage } from '@tiergraph/runtime';
import type { DataSource, EntityManager } from 'typeorm';
import { eventKey, periodKey, type CandidateEvent, type RecordPlan, type RecordState } from './usage-rules';

export interface MeteredKey {
  merchantId: string;
  platformId: string;
  periodStart: Date;
}
export interface FeatureKey {
  merchantId: string;
  platformId: string;
  featureCode: string;
}

export interface PeriodSummaryRow {
  featureCode: string;
  periodStart: Date;
  periodEnd: Date;
  used: number;
  allocated: number | null;
  events: number;
  peakDay: string | null;
  peakDayQuantity: number;
  tierCode: string | null;
}

export interface CrossingRow {
  threshold: number;
  used: number;
  allocated: number;
  crossedAt: Date;
}

const num = (v: string | number | null): number | null => (v === null ? null : Number(v));
const iso = (d: Date) => d.toISOString();

/**
 * Owns metered usage's SQL: a batch is one transaction with a constant number of statements however many events
 * it holds; an advisory lock per (feature, merchant, platform) orders batches that touch the same totals.
 */
export class UsageStore {
  constructor(private readonly db: DataSource) {}

  /**
   * Locks every (feature, merchant, platform) of the candidates (in one order, so two batches cannot deadlock),
   * reads their recorded keys and period totals, lets `decide` rule on them, and writes its plan: events,
   * period and daily totals, threshold crossings, and the summaries of closed periods, all in this transaction.
   */
  record(candidates: CandidateEvent[], now: Date, decide: (state: RecordState) => RecordPlan): Promise<RecordPlan> {
    return this.db.transaction(async (manager) => {
      const lockKeys = [...new Set(candidates.map((c) => `usage:${c.featureCode}:${c.merchantId}:${c.platformId}`))];
      await manager.query(
        `SELECT pg_advisory_xact_lock(k) FROM (SELECT DISTINCT hashtextextended(x, 0) AS k FROM unnest($1::text[]) x ORDER BY 1) locks`,
        [lockKeys],
      );
      const state = await this.readState(manager, candidates);
      const plan = decide(state);
      await this.write(manager, plan, now);
      return plan;
    });
  }

  private async readState(manager: EntityManager, candidates: CandidateEvent[]): Promise<RecordState> {
    const recordedRows: Array<{ merchant_id: string; platform_id: string; feature_code: string; idempotency_key: string; store_id: string; quantity: number; occurred_at: Date }> =
      await manager.query(
        `SELECT merchant_id, platform_id, feature_code, idempotency_key, store_id, quantity, occurred_at FROM billing.usage_events
          WHERE (merchant_id, platform_id, feature_code, idempotency_key) IN (SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[]))`,
        [candidates.map((c) => c.merchantId), candidates.map((c) => c.platformId), candidates.map((c) => c.featureCode), candidates.map((c) => c.idempotencyKey)],
      );
    const periods = candidates.flatMap((c) => [{ ...c, start: c.current.start }, { ...c, start: c.period.start }]);
    const totalRows: Array<{ merchant_id: string; platform_id: string; feature_code: string; period_start: Date; used: string; allocated: string | null }> = await manager.query(
      `SELECT merchant_id, platform_id, feature_code, period_start, used, allocated FROM billing.usage_period_totals
        WHERE (merchant_id, platform_id, feature_code, period_start) IN (SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::timestamptz[]))`,
      [periods.map((p) => p.merchantId), periods.map((p) => p.platformId), periods.map((p) => p.featureCode), periods.map((p) => iso(p.start))],
    );
    const recorded = new Map(
      recordedRows.map((r) => [
        eventKey({ merchantId: r.merchant_id, platformId: r.platform_id, featureCode: r.feature_code, idempotencyKey: r.idempotency_key }),
        { storeId: r.store_id, quantity: r.quantity, occurredAt: new Date(r.occurred_at) },
      ]),
    );
    const totals = new Map(
      totalRows.map((r) => [
        periodKey({ merchantId: r.merchant_id, platformId: r.platform_id, featureCode: r.feature_code }, new Date(r.period_start)),
        { used: Number(r.used), allocated: num(r.allocated) },
      ]),
    );
    return { recorded, totals };
  }

  private async write(manager: EntityManager, plan: RecordPlan, now: Date): Promise<void> {
    if (!plan.events.length) return;
    const e = plan.events;
    // the gateway's cached answers of these merchants' usage (response-tags.ts), evicted on commit
    await notifyTagsChanged(manager, [...new Set(e.map((x) => tag.merchantPlatform(x)))]);
    await manager.query(
      `INSERT INTO billing.usage_events (merchant_id, platform_id, store_id, feature_code, idempotency_key, quantity, occurred_at, period_start, recorded_at)
       SELECT m, p, s, f, k, q, o, ps, $9 FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::int[], $7::timestamptz[], $8::timestamptz[])
         AS e(m, p, s, f, k, q, o, ps)`,
      [e.map((x) => x.merchantId), e.map((x) => x.platformId), e.map((x) => x.storeId), e.map((x) => x.featureCode), e.map((x) => x.idempotencyKey), e.map((x) => x.quantity), e.map((x) => iso(x.occurredAt)), e.map((x) => iso(x.period.start)), iso(now)],
    );
    const t = plan.totals;
    await manager.query(
      `INSERT INTO billing.usage_period_totals AS t (merchant_id, platform_id, feature_code, period_start, period_end, used, events, allocated, tier_code)
       SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::timestamptz[], $5::timestamptz[], $6::bigint[], $7::int[], $8::bigint[], $9::text[])
       ON CONFLICT (merchant_id, platform_id, feature_code, period_start) DO UPDATE
         SET used = t.used + EXCLUDED.used, events = t.events + EXCLUDED.events, allocated = EXCLUDED.allocated, tier_code = EXCLUDED.tier_code`,
      [t.map((x) => x.merchantId), t.map((x) => x.platformId), t.map((x) => x.featureCode), t.map((x) => iso(x.periodStart)), t.map((x) => iso(x.periodEnd)), t.map((x) => x.quantity), t.map((x) => x.events), t.map((x) => x.allocated), t.map((x) => x.tierCode)],
    );
    const d = plan.daily;
    await manager.query(
      `INSERT INTO billing.usage_daily_totals AS d (merchant_id, platform_id, feature_code, period_start, day, quantity, events)
       SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::timestamptz[], $5::date[], $6::bigint[], $7::int[])
       ON CONFLICT (merchant_id, platform_id, feature_code, period_start, day) DO UPDATE SET quantity = d.quantity + EXCLUDED.quantity, events = d.events + EXCLUDED.events`,
      [d.map((x) => x.merchantId), d.map((x) => x.platformId), d.map((x) => x.featureCode), d.map((x) => iso(x.periodStart)), d.map((x) => x.day), d.map((x) => x.quantity), d.map((x) => x.events)],
    );
    const c = plan.crossings;
    if (c.length) {
      await manager.query(
        `INSERT INTO billing.usage_threshold_crossings (merchant_id, platform_id, feature_code, period_start, threshold, used, allocated, crossed_at)
         SELECT m, p, f, ps, th, u, a, $8 FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::timestamptz[], $5::int[], $6::bigint[], $7::bigint[]) AS c(m, p, f, ps, th, u, a)
         ON CONFLICT DO NOTHING`,
        [c.map((x) => x.merchantId), c.map((x) => x.platformId), c.map((x) => x.featureCode), c.map((x) => iso(x.periodStart)), c.map((x) => x.threshold), c.map((x) => x.used), c.map((x) => x.allocated), iso(now)],
      );
    }
    await this.closeEndedPeriods(manager, t, now);
  }

  /**
   * Writes the summary of every ended period of the given features that has none yet, and refreshes the
   * summaries of the given periods (late events of a closed period keep its summary exact). Idempotent.
   */
  async closeEndedPeriods(manager: EntityManager | DataSource, touched: Array<FeatureKey & { periodStart?: Date }>, now: Date): Promise<void> {
    const late = touched.filter((x): x is FeatureKey & { periodStart: Date } => !!x.periodStart);
    await manager.query(
      `INSERT INTO billing.usage_period_summaries AS s
         (merchant_id, platform_id, feature_code, period_start, period_end, used, allocated, events, peak_day, peak_day_quantity, tier_code, closed_at)
       SELECT t.merchant_id, t.platform_id, t.feature_code, t.period_start, t.period_end, t.used, t.allocated, t.events, peak.day, coalesce(peak.quantity, 0), t.tier_code, $4
         FROM billing.usage_period_totals t
         LEFT JOIN LATERAL (
           SELECT d.day, d.quantity FROM billing.usage_daily_totals d
            WHERE d.merchant_id = t.merchant_id AND d.platform_id = t.platform_id AND d.feature_code = t.feature_code AND d.period_start = t.period_start
            ORDER BY d.quantity DESC, d.day LIMIT 1) peak ON true
        WHERE (t.merchant_id, t.platform_id, t.feature_code) IN (SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[]))
          AND t.period_end <= $4
          AND (NOT EXISTS (SELECT 1 FROM billing.usage_period_summaries x
                            WHERE x.merchant_id = t.merchant_id AND x.platform_id = t.platform_id AND x.feature_code = t.feature_code AND x.period_start = t.period_start)
               OR (t.merchant_id, t.platform_id, t.feature_code, t.period_start) IN (SELECT * FROM unnest($5::uuid[], $6::uuid[], $7::text[], $8::timestamptz[])))
       ON CONFLICT (merchant_id, platform_id, feature_code, period_start) DO UPDATE
         SET used = EXCLUDED.used, events = EXCLUDED.events, peak_day = EXCLUDED.peak_day, peak_day_quantity = EXCLUDED.peak_day_quantity`,
      [
        touched.map((x) => x.merchantId), touched.map((x) => x.platformId), touched.map((x) => x.featureCode), iso(now),
        late.map((x) => x.merchantId), late.map((x) => x.platformId), late.map((x) => x.featureCode), late.map((x) => iso(x.periodStart)),
      ],
    );
  }

  // ───────────── reads ─────────────

  /**
   * The metered totals of the subscription row on `alias` for every period from its stored period's start on, as one
   * JSON array: a sub-select for a read of subscriptions that brings them along (PlanStore); `meteredTotalsFromJson`
   * reads its value. The start is compared in ms, as periods are computed (periods.ts): a stored start with
   * microseconds still matches.
   */
  meteredTotalsOfSubscriptionSql(alias: string): string {
    // an inner alias no caller uses: `alias` must name the outer row
    return `SELECT coalesce(json_agg(json_build_object('periodStart', floor(extract(epoch FROM total_.period_start) * 1000)::bigint,
        'code', total_.feature_code, 'used', total_.used::text)), '[]'::json)
      FROM billing.usage_period_totals total_
     WHERE total_.merchant_id = ${alias}.merchant_id AND total_.platform_id = ${alias}.platform_id
       AND total_.period_start >= date_trunc('milliseconds', ${alias}.current_period_start)`;
  }

  /** Each period's totals, as meteredTotals answers them (`used` as text there too: a bigint). */
  meteredTotalsFromJson(json: unknown): Array<{ periodStart: Date; usage: FeatureUsage }> {
    return (json as Array<{ periodStart: number; code: string; used: string }>).map((t) => ({
      periodStart: new Date(Number(t.periodStart)),
      usage: { code: t.code, current: Number(t.used) },
    }));
  }

  /** The metered totals of each merchant's period, for the FeatureSummary (one statement per batch). */
  async meteredTotals(keys: readonly MeteredKey[]): Promise<FeatureUsage[][]> {
    const rows: Array<{ merchant_id: string; platform_id: string; period_start: Date; feature_code: string; used: string }> = await this.db.query(
      `SELECT merchant_id, platform_id, period_start, feature_code, used FROM billing.usage_period_totals
        WHERE (merchant_id, platform_id, period_start) IN (SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[]))`,
      [keys.map((k) => k.merchantId), keys.map((k) => k.platformId), keys.map((k) => iso(k.periodStart))],
    );
    const keyOf = (m: string, p: string, start: Date) => `${m}:${p}:${start.getTime()}`;
    const groups = groupUnder(
      keys.map((k) => keyOf(k.merchantId, k.platformId, k.periodStart)),
      rows,
      (r) => keyOf(r.merchant_id, r.platform_id, new Date(r.period_start)),
    );
    return groups.map((group) => group.map((r) => ({ code: r.feature_code, current: Number(r.used) })));
  }

  async periodTotal(key: FeatureKey, periodStart: Date): Promise<{ used: number; events: number }> {
    const [row] = await this.db.query(
      `SELECT used, events FROM billing.usage_period_totals WHERE merchant_id = $1 AND platform_id = $2 AND feature_code = $3 AND period_start = $4`,
      [key.merchantId, key.platformId, key.featureCode, iso(periodStart)],
    );
    return { used: Number(row?.used ?? 0), events: Number(row?.events ?? 0) };
  }

  /** Daily totals from `from` (a UTC day) on, per day and period. */
  async daily(key: FeatureKey, from: string): Promise<Array<{ day: string; periodStart: Date; quantity: number }>> {
    const rows: Array<{ day: string; period_start: Date; quantity: string }> = await this.db.query(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day, period_start, quantity FROM billing.usage_daily_totals
        WHERE merchant_id = $1 AND platform_id = $2 AND feature_code = $3 AND day >= $4::date ORDER BY day`,
      [key.merchantId, key.platformId, key.featureCode, from],
    );
    return rows.map((r) => ({ day: r.day, periodStart: new Date(r.period_start), quantity: Number(r.quantity) }));
  }

  async crossings(key: FeatureKey, periodStart: Date): Promise<CrossingRow[]> {
    const rows: Array<{ threshold: number; used: string; allocated: string; crossed_at: Date }> = await this.db.query(
      `SELECT threshold, used, allocated, crossed_at FROM billing.usage_threshold_crossings
        WHERE merchant_id = $1 AND platform_id = $2 AND feature_code = $3 AND period_start = $4 ORDER BY threshold`,
      [key.merchantId, key.platformId, key.featureCode, iso(periodStart)],
    );
    return rows.map((r) => ({ threshold: r.threshold, used: Number(r.used), allocated: Number(r.allocated), crossedAt: new Date(r.crossed_at) }));
  }

  /** Closed periods, newest first; periods that ended since the feature's last event are closed first. */
  async history(key: FeatureKey, last: number, now: Date): Promise<PeriodSummaryRow[]> {
    await this.closeEndedPeriods(this.db, [key], now);
    const rows: Array<Record<string, any>> = await this.db.query(
      `SELECT feature_code, period_start, period_end, used, allocated, events, to_char(peak_day, 'YYYY-MM-DD') AS peak_day, peak_day_quantity, tier_code
         FROM billing.usage_period_summaries
        WHERE merchant_id = $1 AND platform_id = $2 AND feature_code = $3 ORDER BY period_start DESC LIMIT $4`,
      [key.merchantId, key.platformId, key.featureCode, last],
    );
    return rows.map((r) => ({
      featureCode: r.feature_code,
      periodStart: new Date(r.period_start),
      periodEnd: new Date(r.period_end),
      used: Number(r.used),
      allocated: num(r.allocated),
      events: r.events,
      peakDay: r.peak_day,
      peakDayQuantity: Number(r.peak_day_quantity),
      tierCode: r.tier_code,
    }));
  }

  /** Per-request batching of the FeatureSummary's metered contribution. */
  createLoaders() {
    return {
      meteredTotals: new DataLoader((keys: readonly MeteredKey[]) => this.meteredTotals(keys), {
        cacheKeyFn: (k) => `${k.merchantId}:${k.platformId}:${k.periodStart.getTime()}`,
      }),
    };
  }
}

export type UsageLoaders = ReturnType<UsageStore['createLoaders']>;
