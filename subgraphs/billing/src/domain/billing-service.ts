import { NotFoundError } from '@tiergraph/runtime';
import type { BillingLoaders } from '../store/billing-store';
import type { SubscriptionTierEntity } from '../store/entities';

/** The format the table enforces; anything else cannot exist, so it is NOT_FOUND without asking the database. */
const TIER_CODE = /^[a-z0-9_-]{2,64}$/;

/**
 * Billing's rules for one request. Tiers are readable by every authenticated caller (the request context
 * already refused anonymous ones), so nothing here depends on the caller yet.
 */
export class BillingService {
  constructor(private readonly loaders: BillingLoaders) {}

  async tier(code: string): Promise<SubscriptionTierEntity> {
    const tier = TIER_CODE.test(code) ? await this.loaders.tierByCode.load(code) : null;
    if (!tier) throw new NotFoundError('SubscriptionTier', code);
    return tier;
  }

  // ───────────── federation references: the same rules as any read ─────────────

  referencedTier(code: string): Promise<SubscriptionTierEntity> {
    return this.tier(code);
  }
}
