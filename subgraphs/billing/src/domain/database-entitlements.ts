import { type EntitlementSource, type Entitlements } from '@tiergraph/runtime';
import type { BillingStore } from '../store/billing-store';
import { planFeatures } from './feature-summary';
import { subscriptionPeriod } from './periods';

/** Billing's own answer to "what may this merchant do", read from its tables (cached by the runtime). */
export class DatabaseEntitlements implements EntitlementSource {
  constructor(
    private readonly store: BillingStore,
    private readonly clock: () => Date,
  ) {}

  async get(merchantId: string, platformId: string): Promise<Entitlements> {
    const pair = { merchantId, platformId };
    const [[subscription], [overrides]] = await Promise.all([this.store.subscriptionsOf([pair]), this.store.overridesOf([pair])]);
    const [tierLimits] = subscription ? await this.store.limitsOfTiers([subscription.tierId]) : [[]];
    const { active, features } = planFeatures(subscription, tierLimits, overrides);
    const period = subscription
      ? subscriptionPeriod(subscription, this.clock())
      : null;
    return {
      status: subscription?.status ?? null,
      active,
      periodStart: period?.start.toISOString() ?? null,
      periodEnd: period?.end.toISOString() ?? null,
      features: Object.fromEntries([...features].map(([code, { limit, enabled }]) => [code, { limit, enabled }])),
    };
  }
}
