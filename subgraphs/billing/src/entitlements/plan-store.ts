import DataLoader from 'dataloader';
import { findByKeysWith, type FeatureUsage, type MerchantPlatform } from '@tiergraph/runtime';
import type { DataSource } from 'typeorm';
import { MerchantFeatureOverrideEntity, MerchantSubscriptionEntity } from '../database/entities';
import { subscriptionPeriod } from '../subscriptions/periods';
import type { MeteredKey } from '../usage/usage-store';

/** A subscription with what its FeatureSummary is made of besides the tier (cached: TierCatalog), read in one statement. */
export interface SubscriptionPlanRow {
  subscription: MerchantSubscriptionEntity;
  /** The merchant's overrides on the platform, in feature-code order (as OverrideStore.overridesOf). */
  overrides: MerchantFeatureOverrideEntity[];
  /** Metered totals of every period from the stored period's start on: the current period (periods.ts) is one of them. */
  meteredTotals: Array<{ periodStart: Date; usage: FeatureUsage }>;
}

/** The request's loaders a plan row fills, so the FeatureSummary's reads find their rows without a statement each. */
export interface PlanRowTargets {
  subscriptionById: DataLoader<string, MerchantSubscriptionEntity | null, string>;
  overridesOf: DataLoader<MerchantPlatform, MerchantFeatureOverrideEntity[], string>;
  meteredTotals: DataLoader<MeteredKey, FeatureUsage[], string>;
}

const OVERRIDES = `SELECT coalesce(json_agg(json_build_object('id', o.id, 'merchantId', o.merchant_id, 'platformId', o.platform_id,
    'featureCode', o.feature_code, 'limitValue', o.limit_value, 'isEnabled', o.is_enabled) ORDER BY o.feature_code), '[]'::json)
  FROM billing.merchant_feature_overrides o WHERE o.merchant_id = e.merchant_id AND o.platform_id = e.platform_id`;
// the period's start in ms (periods are computed in ms, so a stored start with microseconds is compared at ms too),
// `used` as text as the totals loader reads it
const METERED_TOTALS = `SELECT coalesce(json_agg(json_build_object('periodStart', floor(extract(epoch FROM u.period_start) * 1000)::bigint,
    'code', u.feature_code, 'used', u.used::text)), '[]'::json)
  FROM billing.usage_period_totals u
 WHERE u.merchant_id = e.merchant_id AND u.platform_id = e.platform_id AND u.period_start >= date_trunc('milliseconds', e.current_period_start)`;

type OverrideJson = Pick<MerchantFeatureOverrideEntity, 'id' | 'merchantId' | 'platformId' | 'featureCode' | 'limitValue' | 'isEnabled'>;
type TotalJson = { periodStart: number; code: string; used: string };

/** The SQL of a subscription read for its FeatureSummary: the row, its overrides and its metered totals at once. */
export class PlanStore {
  constructor(private readonly db: DataSource) {}

  async subscriptionsWithPlans(ids: readonly string[]): Promise<(SubscriptionPlanRow | null)[]> {
    const rows = await findByKeysWith(this.db, MerchantSubscriptionEntity, 'id', ids, { overrides: OVERRIDES, totals: METERED_TOTALS });
    return rows.map((found) => {
      if (!found) return null;
      const overrides = (found.extras.overrides as OverrideJson[]).map((o) => Object.assign(new MerchantFeatureOverrideEntity(), o));
      const meteredTotals = (found.extras.totals as TotalJson[]).map((t) => ({ periodStart: new Date(Number(t.periodStart)), usage: { code: t.code, current: Number(t.used) } }));
      return { subscription: found.row, overrides, meteredTotals };
    });
  }

  /**
   * A request's `subscriptionWithPlanById`: the subscription, with the request's loaders of its row, overrides and the
   * current period's metered totals filled from the same statement (a loader asked for another key reads as before:
   * a period that ended in between reads its own totals).
   */
  createLoaders(targets: PlanRowTargets, clock: () => Date) {
    return {
      subscriptionWithPlanById: new DataLoader(async (ids: readonly string[]) => {
        const rows = await this.subscriptionsWithPlans(ids);
        const now = clock();
        for (const row of rows) {
          if (!row) continue;
          const { subscription } = row;
          const pair = { merchantId: subscription.merchantId, platformId: subscription.platformId };
          const periodStart = subscriptionPeriod(subscription, now).start;
          targets.subscriptionById.prime(subscription.id, subscription);
          targets.overridesOf.prime(pair, row.overrides);
          targets.meteredTotals.prime(
            { ...pair, periodStart },
            row.meteredTotals.filter((t) => t.periodStart.getTime() === periodStart.getTime()).map((t) => t.usage),
          );
        }
        return rows.map((row) => row?.subscription ?? null);
      }),
    };
  }
}

export type PlanRowLoaders = ReturnType<PlanStore['createLoaders']>;
