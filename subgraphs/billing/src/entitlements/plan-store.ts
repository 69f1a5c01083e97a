import DataLoader from 'dataloader';
import { findByKeysWith, type FeatureUsage, type MerchantPlatform } from '@tiergraph/runtime';
import type { DataSource } from 'typeorm';
import { MerchantFeatureOverrideEntity, MerchantSubscriptionEntity } from '../database/entities';
import type { MeteredKey, UsageStore } from '../usage/usage-store';
import type { OverrideStore } from './override-store';

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

/** The SQL of a subscription read for its FeatureSummary: the row, its overrides and its metered totals at once. */
export class PlanStore {
  /** The stores whose rows a plan row brings along: each writes the sub-select of its own table. */
  constructor(
    private readonly db: DataSource,
    private readonly stores: { overrides: OverrideStore; usage: UsageStore },
  ) {}

  async subscriptionsWithPlans(ids: readonly string[]): Promise<(SubscriptionPlanRow | null)[]> {
    const { overrides, usage } = this.stores;
    const rows = await findByKeysWith(this.db, MerchantSubscriptionEntity, 'id', ids, {
      overrides: overrides.overridesOfSubscriptionSql('e'),
      totals: usage.meteredTotalsOfSubscriptionSql('e'),
    });
    return rows.map((found) =>
      found && { subscription: found.row, overrides: overrides.overridesFromJson(found.extras.overrides), meteredTotals: usage.meteredTotalsFromJson(found.extras.totals) },
    );
  }

  /**
   * A request's `subscriptionWithPlanById`: the subscription, with the request's loaders of its row, overrides and the
   * metered totals of the period `currentPeriodStarts` names (the caller's rule, periods.ts, at one moment per batch) filled from the same
   * statement (a loader asked for another key reads as before: a period that ended in between reads its own totals).
   */
  createLoaders(targets: PlanRowTargets, currentPeriodStarts: (subscriptions: MerchantSubscriptionEntity[]) => Date[]) {
    return {
      subscriptionWithPlanById: new DataLoader(async (ids: readonly string[]) => {
        const rows = await this.subscriptionsWithPlans(ids);
        const found = rows.filter((row): row is SubscriptionPlanRow => row !== null);
        const periodStarts = currentPeriodStarts(found.map((row) => row.subscription));
        for (const [i, row] of found.entries()) {
          const { subscription } = row;
          const pair = { merchantId: subscription.merchantId, platformId: subscription.platformId };
          const periodStart = periodStarts[i];
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
