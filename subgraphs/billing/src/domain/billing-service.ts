import {
  AppError,
  assertCanReadMerchant,
  assertCanReadStore,
  connectionOf,
  BadUserInputError,
  callSubgraph,
  ForbiddenError,
  isUuid,
  NotFoundError,
  parseInput,
  requireAdmin,
  rethrowUniqueViolation,
  type Caller,
  type EntitlementSource,
  type FeatureUsage,
  type StoreDirectory,
  type SubscriptionStatus,
  merchantPlatform,
  verifiedStore,
} from '@tiergraph/runtime';
import { z } from 'zod';
import type { BillingLoaders, BillingStore, MerchantPlatform, SubscriptionFilter } from '../store/billing-store';
import type {
  AddOnProductEntity,
  BillingHistoryEntity,
  MerchantSubscriptionEntity,
  StoreAddOnEntity,
  SubscriptionChange,
  SubscriptionHistoryEntity,
  SubscriptionTierEntity,
  TierFeatureLimitEntity,
} from '../store/entities';
import type { DeclarationRegistry } from './declarations';
import { planFeatures, summarize, usageByCode, usageMetrics, type FeatureSummary, type UsageMetric } from './feature-summary';
import { firstPeriod, subscriptionPeriod } from './periods';
import { checkedContributions, contributedUsage, type ContributedUsage, type StoreParent, type SubscriptionParent } from './references';
import {
  createTierInput,
  featureDeclarationsInput,
  overridesInput,
  pageArgs,
  tierLimitsInput,
  updateSubscriptionInput,
  updateTierInput,
} from './validation';

export class TierNotFoundError extends AppError {
  constructor(code: string) {
    super(`subscription tier ${code} not found`, 'TIER_NOT_FOUND', { tierCode: code });
  }
}

const TIER_UNIQUE: Record<string, [string, string]> = { subscription_tiers_code_key: ['code', 'a tier with this code already exists'] };
const DAY_MS = 86_400_000;

/** Process-wide collaborators of the billing service (one per process, shared by requests). */
export interface BillingShared {
  store: BillingStore;
  declarations: DeclarationRegistry;
  /** Cached and invalidated by NOTIFY: for billing's own reads (hasFeature). */
  entitlements: EntitlementSource;
  /** Straight from the tables: what the other subgraphs' caches are filled from (a cached answer could be stale). */
  currentEntitlements: EntitlementSource;
  stores: StoreDirectory;
  tenancyUrl: string;
  serviceToken: () => Promise<string>;
  clock: () => Date;
}

const MERCHANT_AND_PLATFORM = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Merchant { id name } ... on Platform { id } } }`;

/** Billing's rules for one request: who may read and change what, and how limits, usage and history combine. */
export class BillingService {
  constructor(
    private readonly shared: BillingShared,
    private readonly loaders: BillingLoaders,
    private readonly caller: Caller,
    /** Billing's own usage contribution: the metered features' totals of the current period. */
    private readonly meteredUsage: (pair: MerchantPlatform, subscription: MerchantSubscriptionEntity | null) => Promise<FeatureUsage[]> = async () => [],
  ) {}

  private requireAdminOrService(): void {
    if (this.caller.role !== 'admin' && this.caller.role !== 'service') throw new ForbiddenError('this operation needs the admin role');
  }

  // ───────────── tiers ─────────────

  subscriptionTiers(includeInactive: boolean): Promise<SubscriptionTierEntity[]> {
    if (includeInactive) this.requireAdminOrService();
    return this.shared.store.tiers(includeInactive);
  }

  async tier(code: string): Promise<SubscriptionTierEntity> {
    const tier = /^[a-z0-9_-]{2,64}$/.test(code) ? await this.loaders.tierByCode.load(code) : null;
    if (!tier) throw new TierNotFoundError(code);
    return tier;
  }

  async tierOf(subscription: MerchantSubscriptionEntity): Promise<SubscriptionTierEntity> {
    const tier = await this.loaders.tierById.load(subscription.tierId);
    if (!tier) throw new Error(`subscription ${subscription.id} refers to a missing tier`);
    return tier;
  }

  limitsOf(tier: SubscriptionTierEntity): Promise<TierFeatureLimitEntity[]> {
    return this.loaders.limitsOfTier.load(tier.id);
  }

  async createTier(input: unknown): Promise<SubscriptionTierEntity> {
    requireAdmin(this.caller);
    const values = parseInput(createTierInput, input);
    return this.shared.store
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
      .catch((error) => rethrowUniqueViolation(error, TIER_UNIQUE));
  }

  async updateTier(code: string, input: unknown): Promise<SubscriptionTierEntity> {
    requireAdmin(this.caller);
    const values = parseInput(updateTierInput, input);
    for (const required of ['name', 'priceMonthlyCents', 'isActive', 'isPublic', 'displayOrder'] as const) {
      if (values[required] === null) throw new BadUserInputError(`${required} cannot be null`, required);
    }
    const changes = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined));
    const tier = await this.shared.store.updateTier(code, changes);
    if (!tier) throw new TierNotFoundError(code);
    return tier;
  }

  async deleteTier(code: string): Promise<boolean> {
    requireAdmin(this.caller);
    const outcome = await this.shared.store.deleteTier(code);
    if (outcome === 'not-found') throw new TierNotFoundError(code);
    if (outcome === 'in-use') throw new BadUserInputError(`tier ${code} is used by subscriptions: move them to another tier first`, 'code');
    return true;
  }

  async setTierFeatureLimits(tierCode: string, limits: unknown): Promise<TierFeatureLimitEntity[]> {
    requireAdmin(this.caller);
    const { limits: rows } = parseInput(z.object({ limits: tierLimitsInput }), { limits });
    const tier = await this.tier(tierCode);
    await this.assertDeclared(rows.map((r) => r.featureCode), 'limits');
    await this.shared.store.replaceTierLimits(tier.id, rows.map((r) => ({ featureCode: r.featureCode, limitValue: r.limitValue ?? null, enabled: r.enabled })));
    const [saved] = await this.shared.store.limitsOfTiers([tier.id]);
    return saved;
  }

  /** Every code must be one an owner declared: unknown codes are BAD_USER_INPUT on their row. */
  private async assertDeclared(codes: string[], field: string): Promise<void> {
    const declared = await this.shared.declarations.byCode();
    codes.forEach((code, i) => {
      if (!declared.has(code)) throw new BadUserInputError(`unknown feature code ${code}`, `${field}.${i}.featureCode`);
    });
  }

  // ───────────── overrides ─────────────

  async setOverrides(rawMerchantId: string, rawPlatformId: string, overrides: unknown) {
    requireAdmin(this.caller);
    const { overrides: rows } = parseInput(z.object({ overrides: overridesInput }), { overrides });
    const { merchantId, platformId } = await this.merchantAndPlatform(rawMerchantId, rawPlatformId);
    await this.assertDeclared(rows.map((r) => r.featureCode), 'overrides');
    await this.shared.store.replaceOverrides({ merchantId, platformId }, rows.map((r) => ({ featureCode: r.featureCode, limitValue: r.limitValue ?? null, enabled: r.isEnabled })));
    const [saved] = await this.shared.store.overridesOf([{ merchantId, platformId }]);
    return saved;
  }

  /**
   * Asks tenancy (the source of truth) that both exist; the merchant's name is kept for the admin search.
   * Returns the ids in lower case, as every row, cache key and notification has them.
   */
  async merchantAndPlatform(rawMerchantId: string, rawPlatformId: string): Promise<{ name: string; merchantId: string; platformId: string }> {
    if (!isUuid(rawMerchantId)) throw new NotFoundError('Merchant', rawMerchantId);
    if (!isUuid(rawPlatformId)) throw new NotFoundError('Platform', rawPlatformId);
    const merchantId = rawMerchantId.toLowerCase();
    const platformId = rawPlatformId.toLowerCase();
    const data = await callSubgraph<{ _entities: Array<{ id: string; name?: string } | null> }>(
      this.shared.tenancyUrl,
      MERCHANT_AND_PLATFORM,
      { r: [{ __typename: 'Merchant', id: merchantId }, { __typename: 'Platform', id: platformId }] },
      this.shared.serviceToken,
    );
    const [merchant, platform] = data._entities;
    if (!merchant) throw new NotFoundError('Merchant', merchantId);
    if (!platform) throw new NotFoundError('Platform', platformId);
    return { name: merchant.name ?? '', merchantId, platformId };
  }

  // ───────────── subscriptions ─────────────

  async updateSubscription(rawMerchantId: string, rawPlatformId: string, input: unknown): Promise<MerchantSubscriptionEntity> {
    requireAdmin(this.caller);
    const values = parseInput(updateSubscriptionInput, input);
    const { name, merchantId, platformId } = await this.merchantAndPlatform(rawMerchantId, rawPlatformId);
    const tier = values.tierCode ? await this.tier(values.tierCode) : null;
    const previousTier = async (tierId: string) => (await this.loaders.tierById.load(tierId))!;
    const now = this.shared.clock();
    const actor = this.caller.userId;
    const reason = values.reason ?? null;

    return this.shared.store.writeSubscription({ merchantId, platformId }, async (current) => {
      const history: Array<Omit<SubscriptionHistoryEntity, 'id' | 'subscriptionId' | 'seq'>> = [];
      const entry = (change: SubscriptionChange, extra: Partial<SubscriptionHistoryEntity>) =>
        history.push({ change, fromTierCode: null, toTierCode: null, fromStatus: null, toStatus: null, reason, actor, changedAt: now, ...extra });

      if (!current) {
        if (!tier) throw new BadUserInputError('a new subscription needs a tierCode', 'tierCode');
        const cycle = values.billingCycle ?? 'MONTHLY';
        const trial = values.trialDays ? new Date(now.getTime() + values.trialDays * DAY_MS) : null;
        const status: SubscriptionStatus = values.status ?? (trial ? 'TRIAL' : 'ACTIVE');
        const period = firstPeriod(now, cycle);
        entry('CREATED', { toTierCode: tier.code, toStatus: status });
        return {
          subscription: {
            merchantName: name,
            tierId: tier.id,
            status,
            billingCycle: cycle,
            currentPeriodStart: period.start,
            currentPeriodEnd: period.end,
            trialEndsAt: trial,
            cancelAtPeriodEnd: false,
            cancelledAt: status === 'CANCELLED' ? now : null,
          },
          history,
        };
      }

      const next: Partial<MerchantSubscriptionEntity> = { merchantName: name };
      if (tier && tier.id !== current.tierId) {
        const from = await previousTier(current.tierId);
        const change = tier.priceMonthlyCents > from.priceMonthlyCents ? 'UPGRADE' : tier.priceMonthlyCents < from.priceMonthlyCents ? 'DOWNGRADE' : 'TIER_CHANGE';
        entry(change, { fromTierCode: from.code, toTierCode: tier.code });
        next.tierId = tier.id;
      }
      if (values.billingCycle && values.billingCycle !== current.billingCycle) {
        const period = firstPeriod(now, values.billingCycle);
        entry('CYCLE_CHANGE', { reason: reason ?? `${current.billingCycle} → ${values.billingCycle}` });
        Object.assign(next, { billingCycle: values.billingCycle, currentPeriodStart: period.start, currentPeriodEnd: period.end });
      }
      let status = current.status;
      if (values.trialDays !== undefined && values.trialDays !== null) {
        if (values.trialDays > 0) {
          next.trialEndsAt = new Date(now.getTime() + values.trialDays * DAY_MS);
          entry('TRIAL_STARTED', { fromStatus: status, toStatus: 'TRIAL' });
          status = 'TRIAL';
        } else {
          next.trialEndsAt = null;
        }
      }
      if (values.status && values.status !== status) {
        entry('STATUS_CHANGE', { fromStatus: status, toStatus: values.status });
        status = values.status;
      }
      if (status !== current.status) {
        next.status = status;
        next.cancelledAt = status === 'CANCELLED' ? now : null;
      }
      return { subscription: next, history };
    });
  }

  async subscriptionOfMerchant(merchantId: string, platformId: string): Promise<MerchantSubscriptionEntity | null> {
    assertCanReadMerchant(this.caller, merchantId);
    if (!isUuid(merchantId) || !isUuid(platformId)) return null;
    return this.loaders.subscriptionOf.load(merchantPlatform(merchantId, platformId));
  }

  async subscriptionOfStore(store: StoreParent): Promise<MerchantSubscriptionEntity | null> {
    const { merchantId, platformId } = await verifiedStore(this.caller, store, this.shared.stores);
    return this.loaders.subscriptionOf.load({ merchantId, platformId });
  }

  /** A reference by either key; the usage a plan brings for `features` stays on the returned object. */
  async referencedSubscription(reference: { id?: string; merchantId?: string; platformId?: string } & ContributedUsage): Promise<SubscriptionParent | null> {
    let subscription: MerchantSubscriptionEntity | null = null;
    if (reference.id) subscription = isUuid(reference.id) ? await this.loaders.subscriptionById.load(reference.id) : null;
    else if (reference.merchantId && reference.platformId && isUuid(reference.merchantId) && isUuid(reference.platformId)) {
      subscription = await this.loaders.subscriptionOf.load(merchantPlatform(reference.merchantId, reference.platformId));
    }
    if (!subscription) throw new NotFoundError('MerchantSubscription', reference.id ?? `${reference.merchantId}:${reference.platformId}`);
    assertCanReadMerchant(this.caller, subscription.merchantId);
    return { ...subscription, ...contributedUsage(reference) };
  }

  history(subscription: MerchantSubscriptionEntity): Promise<SubscriptionHistoryEntity[]> {
    return this.loaders.historyOf.load(subscription.id);
  }

  /** The period as of now: stored, or rolled forward by whole cycles when the stored one has ended. */
  periodOf(subscription: MerchantSubscriptionEntity) {
    return subscriptionPeriod(subscription, this.shared.clock());
  }

  // ───────────── features and usage ─────────────

  private async summaryFor(pair: MerchantPlatform, subscription: MerchantSubscriptionEntity | null, usage: ContributedUsage): Promise<FeatureSummary[]> {
    const [declarations, overrides, tierLimits, metered] = await Promise.all([
      this.shared.declarations.all(),
      this.loaders.overridesOf.load(pair),
      subscription ? this.loaders.limitsOfTier.load(subscription.tierId) : Promise.resolve([]),
      this.meteredUsage(pair, subscription),
    ]);
    const { features } = planFeatures(subscription, tierLimits, overrides);
    const contributed = checkedContributions(usage, await this.shared.declarations.byCode());
    return summarize(declarations, features, usageByCode(...contributed, metered));
  }

  features(subscription: SubscriptionParent): Promise<FeatureSummary[]> {
    return this.summaryFor(subscription, subscription, subscription);
  }

  async usageOfStore(store: StoreParent): Promise<UsageMetric[]> {
    const { merchantId, platformId } = await verifiedStore(this.caller, store, this.shared.stores);
    const pair = { merchantId, platformId };
    return usageMetrics(await this.summaryFor(pair, await this.loaders.subscriptionOf.load(pair), store));
  }

  /** Whether the plan includes the feature: an active subscription whose override, else tier, enables it. */
  async hasFeature(store: StoreParent, code: string): Promise<boolean> {
    const { merchantId, platformId } = await verifiedStore(this.caller, store, this.shared.stores);
    if (!(await this.shared.declarations.byCode()).has(code)) throw new BadUserInputError(`unknown feature code ${code}`, 'code');
    const entitlements = await this.shared.entitlements.get(merchantId, platformId);
    return entitlements.active && (entitlements.features[code]?.enabled ?? false);
  }

  async featureCatalog() {
    this.requireAdminOrService();
    const byCategory = new Map<string, Awaited<ReturnType<DeclarationRegistry['all']>>>();
    for (const declaration of await this.shared.declarations.all()) {
      byCategory.set(declaration.category, [...(byCategory.get(declaration.category) ?? []), declaration]);
    }
    return [...byCategory].map(([category, features]) => ({ category, features }));
  }

  async registerFeatures(owner: string, features: unknown): Promise<number> {
    // declarations are the owning subgraph's word, registered at its start with a service token in its own name;
    // nobody else (an admin included) speaks for it
    if (this.caller.role !== 'service') throw new ForbiddenError('features are registered by the subgraph that owns them (a service token)');
    if (!/^[a-z0-9_-]{2,64}$/.test(owner)) throw new BadUserInputError('owner must be a subgraph name', 'owner');
    if (this.caller.userId !== owner) {
      throw new ForbiddenError(`a service token of ${this.caller.userId} cannot register features for ${owner}`);
    }
    const { features: rows } = parseInput(z.object({ features: featureDeclarationsInput }), { features });
    const declared = await this.shared.declarations.byCode();
    rows.forEach((row, i) => {
      const existing = declared.get(row.code);
      if (existing && existing.owner !== owner) {
        throw new BadUserInputError(`feature ${row.code} is already declared by ${existing.owner}`, `features.${i}.code`);
      }
    });
    const { taken, inUse } = await this.shared.store.replaceDeclarations(owner, rows);
    if (taken.length) {
      const i = rows.findIndex((row) => row.code === taken[0]);
      throw new BadUserInputError(`feature ${taken[0]} is already declared by another owner`, `features.${i}.code`);
    }
    if (inUse.length) {
      throw new BadUserInputError(
        `${inUse.join(', ')} would be withdrawn but tier limits or merchant overrides use ${inUse.length === 1 ? 'it' : 'them'}; remove those first`,
        'features',
      );
    }
    this.shared.declarations.invalidate();
    return rows.length;
  }

  /** For the subgraphs that enforce limits. */
  async entitlements(rawMerchantId: string, rawPlatformId: string) {
    this.requireAdminOrService();
    const { merchantId, platformId } = merchantPlatform(rawMerchantId, rawPlatformId);
    const entitlements = await this.shared.currentEntitlements.get(merchantId, platformId);
    return { ...entitlements, features: Object.entries(entitlements.features).map(([code, f]) => ({ code, ...f })) };
  }

  // ───────────── admin views ─────────────

  async stats() {
    this.requireAdminOrService();
    return { ...(await this.shared.store.stats()), currency: 'EUR' };
  }

  async subscriptions(first: number, after: string | null | undefined, filter: SubscriptionFilter | null | undefined) {
    this.requireAdminOrService();
    parseInput(pageArgs, { first });
    const cursor = after ? decodeCursor(after) : null;
    const [page, totalCount] = await Promise.all([this.shared.store.page(filter ?? {}, first, cursor), this.shared.store.count(filter ?? {})]);
    return connectionOf({ nodes: page.rows, cursors: page.rows.map(encodeCursor), hasNextPage: page.hasNextPage }, totalCount, !!cursor);
  }

  /** The store a representation names, checked as every Store field checks it. */
  verifiedStore(store: StoreParent) {
    return verifiedStore(this.caller, store, this.shared.stores);
  }

  // ───────────── add-ons and invoices ─────────────

  addOnProducts(): Promise<AddOnProductEntity[]> {
    return this.shared.store.addOnProducts();
  }

  async addOnsOf(store: { id: string; merchantId?: string }): Promise<StoreAddOnEntity[]> {
    if (!store.merchantId) throw new BadUserInputError('the Store representation needs merchantId', 'merchantId');
    if (!isUuid(store.id) || !isUuid(store.merchantId)) throw new NotFoundError('Store', store.id);
    const key = { storeId: store.id.toLowerCase(), merchantId: store.merchantId.toLowerCase() };
    assertCanReadStore(this.caller, { id: key.storeId, merchantId: key.merchantId });
    // by store AND merchant: a representation naming the caller's merchant with another's store finds nothing
    return this.loaders.addOnsOfStore.load(key);
  }

  async addOnProductOf(addOn: StoreAddOnEntity): Promise<AddOnProductEntity> {
    const product = await this.loaders.addOnProductByCode.load(addOn.addOnCode);
    if (!product) throw new Error(`store add-on ${addOn.id} refers to a missing product`);
    return product;
  }

  /** A page of the merchant's invoices on the store's platform, newest first (a merchant has a few a year). */
  async invoicesOf(store: StoreParent, first: number, after?: string | null): Promise<BillingHistoryEntity[]> {
    const { merchantId, platformId } = await verifiedStore(this.caller, store, this.shared.stores);
    if (first < 1 || first > 100) throw new BadUserInputError('first must be between 1 and 100', 'first');
    const invoices = await this.loaders.invoicesOf.load({ merchantId, platformId });
    const start = after ? invoices.findIndex((invoice) => invoice.id === after.toLowerCase()) + 1 : 0;
    if (after && start === 0) throw new BadUserInputError('after is not an invoice of this list', 'after');
    return invoices.slice(start, start + first);
  }
}

function encodeCursor(row: MerchantSubscriptionEntity): string {
  return Buffer.from(JSON.stringify([row.merchantName, row.id])).toString('base64url');
}

function decodeCursor(cursor: string): { merchantName: string; id: string } {
  try {
    const [merchantName, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    if (typeof merchantName === 'string' && typeof id === 'string' && isUuid(id)) return { merchantName, id };
  } catch {
    // fall through
  }
  throw new BadUserInputError('after is not a cursor of this list', 'after');
}
