import DataLoader from 'dataloader';
import { findByKeys, findByPairs, findGroupedByKeys, merchantPlatformKey, type MerchantPlatform, type SubscriptionStatus } from '@tiergraph/runtime';
import type { DataSource } from 'typeorm';
import { MerchantSubscriptionEntity, SubscriptionHistoryEntity } from '../database/entities';
import { writeSubscription, type HistoryAuthor, type SubscriptionWrite } from './subscription-writer';

export interface SubscriptionFilter {
  status?: SubscriptionStatus | null;
  tierCode?: string | null;
  search?: string | null;
}

export interface SubscriptionPage {
  rows: MerchantSubscriptionEntity[];
  hasNextPage: boolean;
}

export interface StatsRow {
  totalTiers: number;
  activeTiers: number;
  publicTiers: number;
  totalSubscriptions: number;
  activeSubscriptions: number;
  trialSubscriptions: number;
  pastDueSubscriptions: number;
  cancelledSubscriptions: number;
  mrrCents: number;
}

/** The SQL of subscriptions and their history: batched reads, the admin list, and writes through the one writer. */
export class SubscriptionStore {
  constructor(private readonly db: DataSource) {}

  subscriptionsOf(pairs: readonly MerchantPlatform[]): Promise<(MerchantSubscriptionEntity | null)[]> {
    return findByPairs(this.db, MerchantSubscriptionEntity, pairs);
  }

  historyOf(subscriptionIds: readonly string[]): Promise<SubscriptionHistoryEntity[][]> {
    return findGroupedByKeys(this.db, SubscriptionHistoryEntity, { column: 'subscription_id', property: 'subscriptionId' }, subscriptionIds, [
      ['e.changed_at', 'DESC'],
      ['e.seq', 'DESC'],
    ]);
  }

  /** A change in its own transaction, through the one writer (lock, row, history, notification). */
  write(
    pair: MerchantPlatform,
    author: HistoryAuthor,
    change: (current: MerchantSubscriptionEntity | null) => Promise<SubscriptionWrite>,
  ): Promise<MerchantSubscriptionEntity> {
    return writeSubscription(this.db, pair, author, change);
  }

  async page(filter: SubscriptionFilter, first: number, after: { merchantName: string; id: string } | null): Promise<SubscriptionPage> {
    const query = this.filtered(filter).orderBy('s.merchant_name').addOrderBy('s.id').limit(first + 1);
    if (after) query.andWhere('(s.merchant_name, s.id) > (:afterName, :afterId)', { afterName: after.merchantName, afterId: after.id });
    const rows = await query.getMany();
    return { rows: rows.slice(0, first), hasNextPage: rows.length > first };
  }

  count(filter: SubscriptionFilter): Promise<number> {
    return this.filtered(filter).getCount();
  }

  private filtered(filter: SubscriptionFilter) {
    const query = this.db.getRepository(MerchantSubscriptionEntity).createQueryBuilder('s');
    if (filter.status) query.andWhere('s.status = :status', { status: filter.status });
    if (filter.tierCode) {
      query.andWhere('s.tier_id = (SELECT id FROM billing.subscription_tiers WHERE code = :tierCode)', { tierCode: filter.tierCode });
    }
    if (filter.search) {
      const pattern = `%${filter.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      query.andWhere('s.merchant_name ILIKE :pattern', { pattern });
    }
    return query;
  }

  async stats(): Promise<StatsRow> {
    const [row] = await this.db.query(`
      SELECT
        (SELECT count(*) FROM billing.subscription_tiers)::int AS "totalTiers",
        (SELECT count(*) FROM billing.subscription_tiers WHERE is_active)::int AS "activeTiers",
        (SELECT count(*) FROM billing.subscription_tiers WHERE is_active AND is_public)::int AS "publicTiers",
        count(s.id)::int AS "totalSubscriptions",
        count(s.id) FILTER (WHERE s.status = 'ACTIVE')::int AS "activeSubscriptions",
        count(s.id) FILTER (WHERE s.status = 'TRIAL')::int AS "trialSubscriptions",
        count(s.id) FILTER (WHERE s.status = 'PAST_DUE')::int AS "pastDueSubscriptions",
        count(s.id) FILTER (WHERE s.status = 'CANCELLED')::int AS "cancelledSubscriptions",
        coalesce(sum(
          CASE WHEN s.billing_cycle = 'ANNUAL' AND t.price_annual_cents IS NOT NULL THEN t.price_annual_cents / 12.0
               ELSE t.price_monthly_cents END
        ) FILTER (WHERE s.status IN ('ACTIVE', 'PAST_DUE')), 0) AS "mrr"
      FROM billing.merchant_subscriptions s
      JOIN billing.subscription_tiers t ON t.id = s.tier_id`);
    const { mrr, ...counts } = row;
    return { ...counts, mrrCents: Math.round(Number(mrr)) };
  }

  /** Whether the merchant ever had a Stripe subscription (on any platform): only the first one gets a trial. */
  async hasHadStripeSubscription(merchantId: string): Promise<boolean> {
    const [{ had }] = await this.db.query(
      `SELECT EXISTS (SELECT 1 FROM billing.merchant_subscriptions WHERE merchant_id = $1 AND stripe_subscription_id IS NOT NULL) AS had`,
      [merchantId],
    );
    return had;
  }

  /** Per-request batching: one statement per kind of read. */
  createLoaders() {
    return {
      subscriptionById: new DataLoader((ids: readonly string[]) => findByKeys(this.db, MerchantSubscriptionEntity, 'id', ids)),
      subscriptionOf: new DataLoader((pairs: readonly MerchantPlatform[]) => this.subscriptionsOf(pairs), { cacheKeyFn: merchantPlatformKey }),
      historyOf: new DataLoader((ids: readonly string[]) => this.historyOf(ids)),
    };
  }
}

export type SubscriptionLoaders = ReturnType<SubscriptionStore['createLoaders']>;
