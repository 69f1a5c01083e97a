import {
  BadUserInputError,
  merchantPlatform,
  parseInput,
  requireAdmin,
  verifiedStore,
  type Caller,
  type EntitlementSource,
  type MerchantPlatform,
  type StoreDirectory,
  requireAdminOrService,
} from '@tiergraph/runtime';
import { z } from 'zod';
import type { TenancyClient } from '../clients/tenancy-client';
import type { MerchantFeatureOverrideEntity, MerchantSubscriptionEntity } from '../database/entities';
import type { DeclarationRegistry } from '../feature-catalog/declaration-registry';
import type { FeatureCatalogService } from '../feature-catalog/feature-catalog-service';
import { overridesInput } from '../inputs';
import type { StoreParent, SubscriptionParent } from '../references';
import type { UsageService } from '../usage/usage-service';
import { checkedContributions, type ContributedUsage } from './contributions';
import { summarize, unavailableReason, usageByCode, usageMetrics, type FeatureSummary, type UsageMetric } from './feature-summary';
import type { OverrideStore } from './override-store';
import type { PlanReader } from './plan-reader';

export interface EntitlementDependencies {
  plans: PlanReader;
  overrides: OverrideStore;
  declarations: DeclarationRegistry;
  featureCatalog: FeatureCatalogService;
  tenancy: TenancyClient;
  stores: StoreDirectory;
  /** Billing's own usage contribution: the metered features' totals of the current period. */
  usage: UsageService;
  /** Cached and invalidated by NOTIFY: for billing's own reads (hasFeature). */
  entitlements: EntitlementSource;
  /** Straight from the tables: what the other subgraphs' caches are filled from (a cached answer could be stale). */
  currentEntitlements: EntitlementSource;
}

/** What merchants may do, for one request: the FeatureSummary, usage meters, overrides and the internal entitlements query. */
export class EntitlementService {
  constructor(
    private readonly deps: EntitlementDependencies,
    private readonly caller: Caller,
  ) {}

  private async summaryFor(pair: MerchantPlatform, subscription: MerchantSubscriptionEntity | null, usage: ContributedUsage): Promise<FeatureSummary[]> {
    const [declarations, { features }, metered] = await Promise.all([
      this.deps.declarations.all(),
      this.deps.plans.planOf(pair, subscription),
      this.deps.usage.meteredUsage(pair, subscription),
    ]);
    const registered = await this.deps.declarations.byCode();
    const { counts, unavailable } = checkedContributions(usage, registered);
    // a contributor that failed makes only the features it counts unknown (billing's metered ones never are)
    const unknown = new Map<string, string>();
    if (unavailable.size) {
      for (const [code, feature] of registered) {
        if (unavailable.has(feature.owner) && feature.measurement === 'COMPUTED') unknown.set(code, unavailableReason(feature.owner));
      }
    }
    return summarize(declarations, features, usageByCode(...counts, metered), unknown);
  }

  features(subscription: SubscriptionParent): Promise<FeatureSummary[]> {
    return this.summaryFor(subscription, subscription, subscription);
  }

  async usageOfStore(store: StoreParent): Promise<UsageMetric[]> {
    const { merchantId, platformId } = await verifiedStore(this.caller, store, this.deps.stores);
    const pair = { merchantId, platformId };
    // the subscription first; then its plan and its metered totals are read side by side
    const subscription = await this.deps.plans.subscriptionOf(pair);
    return usageMetrics(await this.summaryFor(pair, subscription, store));
  }

  /** Whether the plan includes the feature: an active subscription whose override, else tier, enables it. */
  async hasFeature(store: StoreParent, code: string): Promise<boolean> {
    const { merchantId, platformId } = await verifiedStore(this.caller, store, this.deps.stores);
    if (!(await this.deps.declarations.byCode()).has(code)) throw new BadUserInputError(`unknown feature code ${code}`, 'code');
    const entitlements = await this.deps.entitlements.get(merchantId, platformId);
    return entitlements.active && (entitlements.features[code]?.enabled ?? false);
  }

  /** For the subgraphs that enforce limits. */
  async entitlements(rawMerchantId: string, rawPlatformId: string) {
    requireAdminOrService(this.caller);
    const { merchantId, platformId } = merchantPlatform(rawMerchantId, rawPlatformId);
    const entitlements = await this.deps.currentEntitlements.get(merchantId, platformId);
    return { ...entitlements, features: Object.entries(entitlements.features).map(([code, f]) => ({ code, ...f })) };
  }

  async setOverrides(rawMerchantId: string, rawPlatformId: string, overrides: unknown): Promise<MerchantFeatureOverrideEntity[]> {
    requireAdmin(this.caller);
    const { overrides: rows } = parseInput(z.object({ overrides: overridesInput }), { overrides });
    const { merchantId, platformId } = await this.deps.tenancy.merchantAndPlatform(rawMerchantId, rawPlatformId);
    await this.deps.featureCatalog.assertDeclared(rows.map((r) => r.featureCode), 'overrides');
    await this.deps.overrides.replaceOverrides({ merchantId, platformId }, rows.map((r) => ({ featureCode: r.featureCode, limitValue: r.limitValue ?? null, enabled: r.isEnabled })));
    const [saved] = await this.deps.overrides.overridesOf([{ merchantId, platformId }]);
    return saved;
  }
}
