import { AppError, BadUserInputError, parseInput, requireAdmin, requireAdminOrService, rethrowUniqueViolation, type Caller } from '@tiergraph/runtime';
import { z } from 'zod';
import type { SubscriptionTierEntity, TierFeatureLimitEntity } from '../database/entities';
import type { FeatureCatalogService } from '../feature-catalog/feature-catalog-service';
import { createTierInput, tierLimitsInput, updateTierInput } from '../inputs';
import type { TierCatalog, TierCatalogLoaders } from './tier-catalog';
import type { TierLoaders, TierStore } from './tier-store';

export class TierNotFoundError extends AppError {
  constructor(code: string) {
    super(`subscription tier ${code} not found`, 'TIER_NOT_FOUND', { tierCode: code });
  }
}

const TIER_UNIQUE: Record<string, [string, string]> = { subscription_tiers_code_key: ['code', 'a tier with this code already exists'] };

export interface TierDependencies {
  store: TierStore;
  /** Straight from the tables: for writes and what they decide. */
  loaders: TierLoaders;
  /** The process's tiers and limits (TierCatalog), dropped on every change: for answers. */
  catalog: TierCatalog;
  catalogLoaders: TierCatalogLoaders;
  featureCatalog: FeatureCatalogService;
}

/** Tiers and their feature limits for one request: who may read and change them. */
export class TierService {
  constructor(
    private readonly deps: TierDependencies,
    private readonly caller: Caller,
  ) {}

  subscriptionTiers(includeInactive: boolean): Promise<SubscriptionTierEntity[]> {
    if (includeInactive) requireAdminOrService(this.caller);
    return this.deps.store.tiers(includeInactive);
  }

  async tier(code: string): Promise<SubscriptionTierEntity> {
    const tier = /^[a-z0-9_-]{2,64}$/.test(code) ? await this.deps.loaders.tierByCode.load(code) : null;
    if (!tier) throw new TierNotFoundError(code);
    return tier;
  }

  /** A tier a subscription refers to, from the tables (null only if the row were broken: the foreign key keeps it). */
  tierById(id: string): Promise<SubscriptionTierEntity | null> {
    return this.deps.loaders.tierById.load(id);
  }

  /** The subscription's tier for an answer, from the process's catalog. */
  tierOf(subscription: { id: string; tierId: string }): Promise<SubscriptionTierEntity> {
    return existing(subscription, this.deps.catalogLoaders.tierById.load(subscription.tierId));
  }

  /** The subscription's tier from the tables, for a write that decides by it. */
  currentTierOf(subscription: { id: string; tierId: string }): Promise<SubscriptionTierEntity> {
    return existing(subscription, this.tierById(subscription.tierId));
  }

  limitsOf(tier: { id: string }): Promise<TierFeatureLimitEntity[]> {
    return this.deps.catalogLoaders.limitsOfTier.load(tier.id);
  }

  /** A write of tiers, and the process's catalog dropped once it is over (committed or not), before it answers. */
  private async changing<T>(write: Promise<T>): Promise<T> {
    try {
      return await write;
    } finally {
      this.deps.catalog.invalidate();
    }
  }

  async createTier(input: unknown): Promise<SubscriptionTierEntity> {
    requireAdmin(this.caller);
    const values = parseInput(createTierInput, input);
    return this.changing(this.deps.store
      .insertTier({
        ...values,
        description: values.description ?? null,
        priceAnnualCents: values.priceAnnualCents ?? null,
        currency: values.currency ?? 'EUR',
        isActive: values.isActive ?? true,
        isPublic: values.isPublic ?? true,
        displayOrder: values.displayOrder ?? 0,
        stripePriceMonthlyId: values.stripePriceMonthlyId ?? null,
        stripePriceAnnualId: values.stripePriceAnnualId ?? null,
      })
      .catch((error) => rethrowUniqueViolation(error, TIER_UNIQUE)));
  }

  async updateTier(code: string, input: unknown): Promise<SubscriptionTierEntity> {
    requireAdmin(this.caller);
    const values = parseInput(updateTierInput, input);
    for (const required of ['name', 'priceMonthlyCents', 'isActive', 'isPublic', 'displayOrder'] as const) {
      if (values[required] === null) throw new BadUserInputError(`${required} cannot be null`, required);
    }
    const changes = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined));
    const tier = await this.changing(this.deps.store.updateTier(code, changes));
    if (!tier) throw new TierNotFoundError(code);
    return tier;
  }

  async deleteTier(code: string): Promise<boolean> {
    requireAdmin(this.caller);
    const outcome = await this.changing(this.deps.store.deleteTier(code));
    if (outcome === 'not-found') throw new TierNotFoundError(code);
    if (outcome === 'in-use') throw new BadUserInputError(`tier ${code} is used by subscriptions: move them to another tier first`, 'code');
    return true;
  }

  async setTierFeatureLimits(tierCode: string, limits: unknown): Promise<TierFeatureLimitEntity[]> {
    requireAdmin(this.caller);
    const { limits: rows } = parseInput(z.object({ limits: tierLimitsInput }), { limits });
    const tier = await this.tier(tierCode);
    await this.deps.featureCatalog.assertDeclared(rows.map((r) => r.featureCode), 'limits');
    await this.changing(this.deps.store.replaceTierLimits(tier.id, rows.map((r) => ({ featureCode: r.featureCode, limitValue: r.limitValue ?? null, enabled: r.enabled }))));
    const [saved] = await this.deps.store.limitsOfTiers([tier.id]);
    return saved;
  }
}

async function existing(subscription: { id: string }, tier: Promise<SubscriptionTierEntity | null>): Promise<SubscriptionTierEntity> {
  const found = await tier;
  if (!found) throw new Error(`subscription ${subscription.id} refers to a missing tier`);
  return found;
}
