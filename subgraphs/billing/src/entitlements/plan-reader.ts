import type { FeatureEntitlement, MerchantPlatform } from '@tiergraph/runtime';
import type DataLoader from 'dataloader';
import type { MerchantFeatureOverrideEntity, MerchantSubscriptionEntity, TierFeatureLimitEntity } from '../database/entities';
import { planFeatures } from './feature-summary';

/** The batched reads a plan is made of (a request's loaders, or fresh ones for a read straight from the tables). */
export interface PlanLoaders {
  subscriptionOf: DataLoader<MerchantPlatform, MerchantSubscriptionEntity | null, string>;
  overridesOf: DataLoader<MerchantPlatform, MerchantFeatureOverrideEntity[], string>;
  limitsOfTier: DataLoader<string, TierFeatureLimitEntity[], string>;
}

/** What a merchant's plan on a platform allows now. */
export interface Plan {
  subscription: MerchantSubscriptionEntity | null;
  /** The subscription is live (ACTIVE_STATUSES). */
  active: boolean;
  /** The effective features: the tier's limits with the merchant's overrides on top; none when not active. */
  features: Map<string, FeatureEntitlement & { isOverride: boolean }>;
}

/** Reads plans: the one place subscription, tier limits and overrides are combined (every reader of limits asks here). */
export class PlanReader {
  constructor(private readonly loaders: PlanLoaders) {}

  /** The merchant's subscription on the platform (null: none), through the request's loader. */
  subscriptionOf(pair: MerchantPlatform): Promise<MerchantSubscriptionEntity | null> {
    return this.loaders.subscriptionOf.load(pair);
  }

  /** `subscription`: when the caller has the row already (undefined: load it). */
  async planOf(pair: MerchantPlatform, subscription?: MerchantSubscriptionEntity | null): Promise<Plan> {
    const current = subscription === undefined ? await this.loaders.subscriptionOf.load(pair) : subscription;
    const [overrides, tierLimits] = await Promise.all([
      this.loaders.overridesOf.load(pair),
      current ? this.loaders.limitsOfTier.load(current.tierId) : Promise.resolve([]),
    ]);
    return { subscription: current, ...planFeatures(current, tierLimits, overrides) };
  }
}
