import type { EntitlementSource, Entitlements } from '@tiergraph/runtime';
import type { SubscriptionStore } from '../subscriptions/subscription-store';
import { subscriptionPeriod } from '../subscriptions/periods';
import type { TierStore } from '../tiers/tier-store';
import type { OverrideStore } from './override-store';
import { PlanReader } from './plan-reader';

export interface DatabaseEntitlementStores {
  subscriptions: SubscriptionStore;
  overrides: OverrideStore;
  tiers: TierStore;
}

/** Billing's own answer to "what may this merchant do", read from its tables (cached by the runtime). */
export class DatabaseEntitlements implements EntitlementSource {
  constructor(
    private readonly stores: DatabaseEntitlementStores,
    private readonly clock: () => Date,
  ) {}

  async get(merchantId: string, platformId: string): Promise<Entitlements> {
    // fresh loaders: straight from the tables, nothing kept between calls
    const plans = new PlanReader({
      ...this.stores.subscriptions.createLoaders(),
      ...this.stores.overrides.createLoaders(),
      ...this.stores.tiers.createLoaders(),
    });
    const { subscription, active, features } = await plans.planOf({ merchantId, platformId });
    const period = subscription ? subscriptionPeriod(subscription, this.clock()) : null;
    return {
      status: subscription?.status ?? null,
      active,
      periodStart: period?.start.toISOString() ?? null,
      periodEnd: period?.end.toISOString() ?? null,
      features: Object.fromEntries([...features].map(([code, { limit, enabled }]) => [code, { limit, enabled }])),
    };
  }
}
