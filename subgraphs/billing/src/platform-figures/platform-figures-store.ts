import { ACTIVE_STATUSES } from '@tiergraph/plans';
import type { SubscriptionStatus } from '@tiergraph/runtime';
import type { DataSource } from 'typeorm';

export interface StatusCount {
  status: SubscriptionStatus;
  count: number;
}

export interface TierCount {
  tierCode: string;
  count: number;
}

/** The sum of one quantitative feature's effective limits over the live subscriptions, unlimited ones counted apart. */
export interface FeatureCapacity {
  featureCode: string;
  /** The sum of the finite effective limits (a disabled feature allows 0). */
  limitSum: number;
  limitedSubscriptions: number;
  unlimitedSubscriptions: number;
}

export interface BillingPlatformFigures {
  statusCounts: StatusCount[];
  liveTierDistribution: TierCount[];
  featureCapacity: FeatureCapacity[];
}

/**
 * Billing's platform-wide figures, read from billing's own tables set-wise (three statements however many
 * subscriptions): counts by status, live subscriptions by tier, and per quantitative feature the sum of the
 * effective limits of the live subscriptions.
 *
 * The effective limit is billing's one plan rule (`effectiveFeatures` in feature-summary.ts) written as SQL so
 * that it aggregates in the database instead of loading every subscription: while the subscription is live
 * (ACTIVE_STATUSES) the merchant's override decides where there is one, else the tier's limit; a feature that is
 * not enabled, or that neither names, allows 0; a null limit of an enabled feature is unlimited. A test holds the
 * two to the same answers.
 */
export class BillingPlatformFiguresStore {
  constructor(private readonly db: DataSource) {}

  async figures(): Promise<BillingPlatformFigures> {
    const live = [...ACTIVE_STATUSES];
    const [statusRows, tierRows, capacityRows] = await Promise.all([
      this.db.query(`SELECT status, count(*)::int AS count FROM billing.merchant_subscriptions GROUP BY status ORDER BY status`) as Promise<StatusCount[]>,
      this.db.query(
        `SELECT t.code AS "tierCode", count(*)::int AS count
           FROM billing.merchant_subscriptions s JOIN billing.subscription_tiers t ON t.id = s.tier_id
          WHERE s.status = ANY($1::text[])
          GROUP BY t.code, t.display_order ORDER BY t.display_order, t.code`,
        [live],
      ) as Promise<TierCount[]>,
      this.db.query(
        `WITH effective AS (
           SELECT d.code,
                  CASE WHEN o.feature_code IS NOT NULL THEN o.is_enabled AND o.limit_value IS NULL
                       ELSE coalesce(l.enabled AND l.limit_value IS NULL, false) END AS unlimited,
                  CASE WHEN o.feature_code IS NOT NULL THEN CASE WHEN o.is_enabled THEN o.limit_value ELSE 0 END
                       WHEN l.feature_code IS NOT NULL THEN CASE WHEN l.enabled THEN l.limit_value ELSE 0 END
                       ELSE 0 END AS limit_value
             FROM billing.merchant_subscriptions s
             CROSS JOIN billing.feature_declarations d
             LEFT JOIN billing.tier_feature_limits l ON l.tier_id = s.tier_id AND l.feature_code = d.code
             LEFT JOIN billing.merchant_feature_overrides o
                    ON o.merchant_id = s.merchant_id AND o.platform_id = s.platform_id AND o.feature_code = d.code
            WHERE s.status = ANY($1::text[]) AND d.feature_type = 'QUANTITATIVE')
         SELECT code AS "featureCode",
                coalesce(sum(limit_value) FILTER (WHERE NOT unlimited), 0)::float8 AS "limitSum",
                count(*) FILTER (WHERE NOT unlimited)::int AS "limitedSubscriptions",
                count(*) FILTER (WHERE unlimited)::int AS "unlimitedSubscriptions"
           FROM effective GROUP BY code ORDER BY code`,
        [live],
      ) as Promise<FeatureCapacity[]>,
    ]);
    return { statusCounts: statusRows, liveTierDistribution: tierRows, featureCapacity: capacityRows };
  }
}
