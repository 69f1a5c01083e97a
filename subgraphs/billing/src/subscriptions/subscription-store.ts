import DataLoader from 'dataloader';
import {
  entityColumnsSql,
  findByKeys,
  findByPairs,
  findGroupedByKeys,
  loaderQuery,
  merchantPlatformKey,
  type MerchantPlatform,
  type SubscriptionStatus,
} from '@tiergraph/runtime';
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

/**
 * The admin list's filter as SQL on the alias `e` with positional parameters: only the conditions given, so each
 * combination is its own prepared statement with its own plan. The search matches anywhere in the merchant's name,
 * case-insensitively, `%`, `_` and `\\` taken literally.
 */
function filterSql(filter: SubscriptionFilter): { conditions: string[]; values: unknown[] } {
  const conditions: string[] = [];
  const values: unknown[] = [];
  if (filter.status) conditions.push(`e.status = $${values.push(filter.status)}`);
  if (filter.tierCode) conditions.push(`e.tier_id = (SELECT id FROM billing.subscription_tiers WHERE code = $${values.push(filter.tierCode)})`);
  if (filter.search) conditions.push(`e.merchant_name ILIKE $${values.push(`%${filter.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`)}`);
  return { conditions, values };
}

const whereOf = (conditions: string[]) => (conditions.length ? ` WHERE ${conditions.join(' AND ')}` : '');

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

  /**
   * One page of the admin list, by merchant name then id, after a (merchantName, id) keyset position: one prepared
   * statement whose rows are plain objects (no entity hydration: a page is up to 1,000 rows).
   */
  async page(filter: SubscriptionFilter, first: number, after: { merchantName: string; id: string } | null): Promise<SubscriptionPage> {
    const { conditions, values } = filterSql(filter);
    if (after) conditions.push(`(e.merchant_name, e.id) > ($${values.push(after.merchantName)}, $${values.push(after.id)}::uuid)`);
    const rows = await loaderQuery<MerchantSubscriptionEntity>(
      this.db,
      `SELECT ${entityColumnsSql(this.db, MerchantSubscriptionEntity)} FROM billing.merchant_subscriptions e${whereOf(conditions)}
        ORDER BY e.merchant_name, e.id LIMIT $${values.push(first + 1)}`,
      values,
    );
    return { rows: rows.slice(0, first), hasNextPage: rows.length > first };
  }

  async count(filter: SubscriptionFilter): Promise<number> {
    const { conditions, values } = filterSql(filter);
    const [row] = await loaderQuery<{ n: number }>(this.db, `SELECT count(*)::int AS n FROM billing.merchant_subscriptions e${whereOf(conditions)}`, values);
    return row.n;
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
