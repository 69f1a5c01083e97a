import { ACTIVE_STATUSES } from '@tiergraph/plans';
import type { MerchantPlatform, SubscriptionStatus } from '@tiergraph/runtime';
import type { DataSource, EntityManager } from 'typeorm';
import type { TierPrices } from '../payments/webhooks/mapping';
import { WebhookStore } from '../payments/webhooks/webhook-store';
import { lockSubscription } from '../subscriptions/subscription-writer';
import type { UsageStore } from '../usage/usage-store';

/** The statuses of a subscription that has ended: what cleanup may strip of its transient data. */
const ENDED_STATUSES: readonly SubscriptionStatus[] = ['CANCELLED', 'EXPIRED'];

const iso = (d: Date) => d.toISOString();
type PairRow = { merchant_id: string; platform_id: string };
const pairOf = (row: PairRow): MerchantPlatform => ({ merchantId: row.merchant_id, platformId: row.platform_id });

/** What the transient data of a cleaned subscription amounted to. */
export interface RemovedUsage {
  events: number;
  dailyTotals: number;
  crossings: number;
  periodTotals: number;
}

/**
 * The jobs' SQL: which subscriptions are due (read without locks; every job checks again under the writer's lock),
 * the closed periods' usage summaries, and the removal of transient usage data. Subscription rows are only written
 * through the subscription writer (subscriptions/subscription-writer.ts).
 */
export class JobsStore {
  constructor(
    private readonly db: DataSource,
    private readonly usageStore: UsageStore,
  ) {}

  /** Live subscriptions whose stored period ended by `now` and that do not end with it. */
  async subscriptionsWithEndedPeriod(now: Date): Promise<MerchantPlatform[]> {
    const rows: PairRow[] = await this.db.query(
      `SELECT merchant_id, platform_id FROM billing.merchant_subscriptions
        WHERE status = ANY($2::text[]) AND NOT cancel_at_period_end AND current_period_end <= $1
        ORDER BY merchant_id, platform_id`,
      [iso(now), [...ACTIVE_STATUSES]],
    );
    return rows.map(pairOf);
  }

  /** Trials that ended by `now` with no Stripe subscription behind them (so no payment method to charge). */
  async trialsEndedWithoutPayment(now: Date): Promise<MerchantPlatform[]> {
    const rows: PairRow[] = await this.db.query(
      `SELECT merchant_id, platform_id FROM billing.merchant_subscriptions
        WHERE status = 'TRIAL' AND trial_ends_at <= $1 AND stripe_subscription_id IS NULL
        ORDER BY merchant_id, platform_id`,
      [iso(now)],
    );
    return rows.map(pairOf);
  }

  /** Subscriptions linked to a Stripe subscription that may still change there (every status but CANCELLED). */
  async linkedToStripe(): Promise<Array<MerchantPlatform & { stripeSubscriptionId: string }>> {
    const rows: Array<PairRow & { stripe_subscription_id: string }> = await this.db.query(
      `SELECT merchant_id, platform_id, stripe_subscription_id FROM billing.merchant_subscriptions
        WHERE stripe_subscription_id IS NOT NULL AND status <> 'CANCELLED'
        ORDER BY merchant_id, platform_id`,
    );
    return rows.map((row) => ({ ...pairOf(row), stripeSubscriptionId: row.stripe_subscription_id }));
  }

  /** The tiers with their Stripe prices, as the webhook handlers read them (the Stripe sync maps prices with them). */
  tiers(): Promise<TierPrices[]> {
    return new WebhookStore(this.db.manager).tiers();
  }

  /** Cancelled or expired subscriptions whose end (cancellation, else last change) is older than `before`. */
  async endedBefore(before: Date): Promise<MerchantPlatform[]> {
    const rows: PairRow[] = await this.db.query(
      `SELECT merchant_id, platform_id FROM billing.merchant_subscriptions
        WHERE status = ANY($2::text[]) AND coalesce(cancelled_at, updated_at) <= $1
        ORDER BY merchant_id, platform_id`,
      [iso(before), [...ENDED_STATUSES]],
    );
    return rows.map(pairOf);
  }

  /**
   * Materialises the usage summary of every period of the pair's metered features that ended by `now` and has
   * none yet (the usage module otherwise writes them lazily, when the feature is next used or read). How many
   * summaries were written.
   */
  async keepClosedPeriodSummaries(manager: EntityManager, pair: MerchantPlatform, now: Date): Promise<number> {
    const features: Array<{ feature_code: string; missing: number }> = await manager.query(
      `SELECT t.feature_code, count(*) FILTER (WHERE s.period_start IS NULL)::int AS missing
         FROM billing.usage_period_totals t
         LEFT JOIN billing.usage_period_summaries s USING (merchant_id, platform_id, feature_code, period_start)
        WHERE t.merchant_id = $1 AND t.platform_id = $2 AND t.period_end <= $3
        GROUP BY t.feature_code`,
      [pair.merchantId, pair.platformId, iso(now)],
    );
    const due = features.filter((f) => f.missing > 0);
    if (!due.length) return 0;
    await this.usageStore.closeEndedPeriods(manager, due.map((f) => ({ ...pair, featureCode: f.feature_code })), now);
    return due.reduce((sum, f) => sum + f.missing, 0);
  }

  /**
   * In one transaction, under the pair's subscription lock and only while the subscription is still ended before
   * `before`: keeps the summaries of its closed periods, then removes the usage events, daily totals, threshold
   * crossings and period totals of those periods. Subscription, history, summaries and invoices stay. Null when the
   * subscription is not (or no longer) due.
   */
  removeTransientUsage(pair: MerchantPlatform, before: Date, now: Date): Promise<RemovedUsage | null> {
    return this.db.transaction(async (manager) => {
      // the subscription writer's lock: no writer changes the subscription while its detail goes
      const current = await lockSubscription(manager, pair);
      if (!current || !ENDED_STATUSES.includes(current.status) || (current.cancelledAt ?? current.updatedAt) > before) return null;
      await this.keepClosedPeriodSummaries(manager, pair, now);
      const args = [pair.merchantId, pair.platformId, iso(now)];
      // only periods that are closed and summarised lose their detail
      const summarised = `(feature_code, period_start) IN (
          SELECT feature_code, period_start FROM billing.usage_period_summaries
           WHERE merchant_id = $1 AND platform_id = $2 AND period_end <= $3)`;
      const removed = async (table: string): Promise<number> => {
        const rows: unknown[] = await manager.query(
          `WITH gone AS (DELETE FROM billing.${table} WHERE merchant_id = $1 AND platform_id = $2 AND ${summarised} RETURNING 1) SELECT 1 FROM gone`,
          args,
        );
        return rows.length;
      };
      return {
        events: await removed('usage_events'),
        dailyTotals: await removed('usage_daily_totals'),
        crossings: await removed('usage_threshold_crossings'),
        periodTotals: await removed('usage_period_totals'),
      };
    });
  }
}
