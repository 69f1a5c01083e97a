import {
  AppError,
  BadUserInputError,
  canReadStore,
  isUuid,
  NotFoundError,
  verifiedStore,
  type Caller,
  type FeatureUsage,
  type MerchantPlatform,
  type StoreDirectory,
} from '@tiergraph/runtime';
import { effectiveLimit, FeatureLimitReachedError, SubscriptionInactiveError } from '@tiergraph/plans';
import { z } from 'zod';
import type { MerchantSubscriptionEntity } from '../database/entities';
import type { PlanReader } from '../entitlements/plan-reader';
import type { DeclarationRegistry, RegisteredFeature } from '../feature-catalog/declaration-registry';
import type { StoreParent } from '../references';
import { subscriptionPeriod, type Period } from '../subscriptions/periods';
import type { TierLoaders, TierStore } from '../tiers/tier-store';
import { usageInsights, type TierOffer } from './insights';
import type { UsageLoaders, UsageStore } from './usage-store';
import { decideBatch, eventPeriod, utcDay, type CandidateEvent, type EventOutcome, type UsageRules } from './usage-rules';

export const MAX_BATCH = 1000;
const DAY_MS = 86_400_000;

export interface UsageDependencies {
  usageStore: UsageStore;
  loaders: UsageLoaders;
  /** The merchant's plan (subscription and effective limits), as entitlements reads it. */
  plans: PlanReader;
  tierStore: TierStore;
  tierLoaders: TierLoaders;
  declarations: DeclarationRegistry;
  stores: StoreDirectory;
  clock: () => Date;
  rules: UsageRules;
}

const eventInput = z.object({
  storeId: z.string(),
  featureCode: z.string(),
  quantity: z.number().int('must be a whole number').positive('must be greater than 0'),
  idempotencyKey: z.string().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
  occurredAt: z.union([z.date(), z.string()]).nullish(),
});

export interface RecordResult {
  idempotencyKey: string;
  featureCode: string;
  accepted: boolean;
  duplicate: boolean;
  errorCode: string | null;
  errorField: string | null;
  errorMessage: string | null;
  /** The error recordUsage throws for a refused event. */
  error: AppError | null;
  current: number | null;
  limit: number | null;
  remaining: number | null;
}

const remainingOf = (current: number, limit: number | null) => (limit === null ? null : Math.max(0, limit - current));

/** Metered usage for one request: recording events (one or a batch), the FeatureSummary's contribution, insights and history. */
export class UsageService {
  constructor(
    private readonly deps: UsageDependencies,
    private readonly caller: Caller,
  ) {}

  /** One event: a refused one is the error itself. */
  async recordOne(input: unknown) {
    const [result] = await this.record([input]);
    if (result.error) throw result.error;
    return { featureCode: result.featureCode, accepted: result.accepted, duplicate: result.duplicate, current: result.current!, limit: result.limit, remaining: result.remaining };
  }

  async recordBatch(events: unknown[]) {
    if (events.length > MAX_BATCH) throw new BadUserInputError(`at most ${MAX_BATCH} events in one batch`, 'events');
    const results = await this.record(events);
    return {
      accepted: results.filter((r) => r.accepted && !r.duplicate).length,
      duplicates: results.filter((r) => r.duplicate).length,
      refused: results.filter((r) => !r.accepted).length,
      results,
    };
  }

  /**
   * Validates every event, resolves its store, plan and period (all batched), then decides and writes the batch
   * in one transaction of the store. Each event gets its own result; nothing throws for a single refused event.
   */
  private async record(raw: unknown[]): Promise<RecordResult[]> {
    const now = this.deps.clock();
    const results: RecordResult[] = raw.map((r) => blank(r));
    const refuse = (i: number, error: AppError, extra: { current?: number | null; limit?: number | null } = {}) => refuseResult(results[i], error, extra);

    const parsed = raw.map((r, i) => {
      const p = eventInput.safeParse(r);
      if (!p.success) {
        const field = p.error.issues[0].path.join('.') || 'input';
        refuse(i, new BadUserInputError(`${field} ${p.error.issues[0].message}`, field));
        return null;
      }
      const occurredAt = p.data.occurredAt ? new Date(p.data.occurredAt) : null;
      if (occurredAt && Number.isNaN(occurredAt.getTime())) {
        refuse(i, new BadUserInputError('occurredAt is not a date', 'occurredAt'));
        return null;
      }
      return { ...p.data, storeId: p.data.storeId.toLowerCase(), occurredAt };
    });

    const declarations = await this.deps.declarations.byCode();
    const storeIds = parsed.flatMap((p) => (p && isUuid(p.storeId) ? [p.storeId] : []));
    const stores = storeIds.length ? await this.deps.stores.getMany(storeIds) : new Map();

    const located: Array<{ i: number; event: NonNullable<(typeof parsed)[number]>; pair: MerchantPlatform; declaration: RegisteredFeature }> = [];
    parsed.forEach((event, i) => {
      if (!event) return;
      const store = isUuid(event.storeId) ? stores.get(event.storeId) : null;
      if (!store || !canReadStore(this.caller, store)) return refuse(i, new NotFoundError('Store', event.storeId));
      const declaration = declarations.get(event.featureCode);
      if (!declaration) return refuse(i, new BadUserInputError(`unknown feature code ${event.featureCode}`, 'featureCode'));
      if (declaration.featureType !== 'QUANTITATIVE' || declaration.measurement !== 'METERED') {
        return refuse(i, new BadUserInputError(`${event.featureCode} is not metered: its owner counts it`, 'featureCode'));
      }
      located.push({ i, event, pair: { merchantId: store.merchantId, platformId: store.platformId }, declaration });
    });

    const plans = await Promise.all(located.map(({ pair }) => this.planOf(pair)));
    const candidates: CandidateEvent[] = [];
    located.forEach(({ i, event, pair }, n) => {
      const plan = plans[n];
      if (!plan.subscription || !plan.active) return refuse(i, new SubscriptionInactiveError(plan.subscription?.status ?? null));
      const stored = { start: plan.subscription.currentPeriodStart, end: plan.subscription.currentPeriodEnd };
      const occurredAt = event.occurredAt ?? now;
      // no period before the subscription's first (its stored period never starts before its creation, but may be older than the row)
      const subscribedAt = new Date(Math.min(plan.subscription.createdAt.getTime(), stored.start.getTime()));
      const where = eventPeriod(stored, plan.subscription.billingCycle, now, occurredAt, this.deps.rules, subscribedAt);
      if ('refused' in where) return refuse(i, new BadUserInputError(where.refused, 'occurredAt'));
      candidates.push({
        index: i,
        ...pair,
        storeId: event.storeId,
        featureCode: event.featureCode,
        quantity: event.quantity,
        idempotencyKey: event.idempotencyKey,
        occurredAt,
        occurredAtGiven: !!event.occurredAt,
        period: where.period,
        current: where.current,
        limit: plan.limitOf(event.featureCode),
        tierCode: plan.tierCode,
      });
    });

    if (candidates.length) {
      const plan = await this.deps.usageStore.record(candidates, now, (state) => decideBatch(candidates, state));
      for (const c of candidates) this.apply(results[c.index], c, plan.outcomes.get(c.index)!);
    }
    return results;
  }

  private apply(result: RecordResult, c: CandidateEvent, outcome: EventOutcome): void {
    if (outcome.status === 'refused') {
      const error =
        outcome.code === 'FEATURE_LIMIT_REACHED'
          ? new FeatureLimitReachedError(c.featureCode, outcome.current!, outcome.limit!)
          : new BadUserInputError(outcome.message, outcome.field ?? 'input');
      refuseResult(result, error, { current: outcome.current, limit: outcome.limit });
      return;
    }
    Object.assign(result, {
      accepted: true,
      duplicate: outcome.status === 'duplicate',
      current: outcome.current,
      limit: outcome.limit,
      remaining: remainingOf(outcome.current, outcome.limit),
    });
  }

  /** The merchant's subscription and effective limits on the platform (batched across a batch's merchants). */
  private async planOf(pair: MerchantPlatform) {
    const { subscription, active, features } = await this.deps.plans.planOf(pair);
    const tier = subscription ? await this.deps.tierLoaders.tierById.load(subscription.tierId) : null;
    return {
      subscription,
      active,
      tierCode: tier?.code ?? null,
      /** A feature the plan does not include allows none. */
      limitOf: (code: string) => effectiveLimit(features.get(code)),
    };
  }

  private periodOf(subscription: MerchantSubscriptionEntity): Period {
    return subscriptionPeriod(subscription, this.deps.clock());
  }

  // ───────────── the FeatureSummary's metered contribution ─────────────

  /** Billing's own usage contribution: the current period's totals of the metered features (batched). */
  async meteredUsage(pair: MerchantPlatform, subscription: MerchantSubscriptionEntity | null): Promise<FeatureUsage[]> {
    if (!subscription) return [];
    const metered = (await this.deps.declarations.all()).filter((d) => d.measurement === 'METERED');
    if (!metered.length) return [];
    const codes = new Set(metered.map((d) => d.code));
    const totals = await this.deps.loaders.meteredTotals.load({ ...pair, periodStart: this.periodOf(subscription).start });
    return totals.filter((t) => codes.has(t.code));
  }

  // ───────────── insights and history ─────────────

  private async meteredFeature(featureCode: string): Promise<RegisteredFeature> {
    const declaration = (await this.deps.declarations.byCode()).get(featureCode);
    if (!declaration) throw new BadUserInputError(`unknown feature code ${featureCode}`, 'featureCode');
    if (declaration.measurement !== 'METERED') throw new BadUserInputError(`${featureCode} is not metered: its owner counts it`, 'featureCode');
    return declaration;
  }

  async insights(store: StoreParent, featureCode: string) {
    const { merchantId, platformId } = await verifiedStore(this.caller, store, this.deps.stores);
    const declaration = await this.meteredFeature(featureCode);
    const pair = { merchantId, platformId };
    const plan = await this.planOf(pair);
    if (!plan.subscription) throw new SubscriptionInactiveError(null);
    const now = this.deps.clock();
    const period = this.periodOf(plan.subscription);
    const key = { ...pair, featureCode };
    const from = utcDay(new Date(Math.min(period.start.getTime(), now.getTime() - 13 * DAY_MS)));
    const [total, rows, crossings, offers] = await Promise.all([
      this.deps.usageStore.periodTotal(key, period.start),
      this.deps.usageStore.daily(key, from),
      this.deps.usageStore.crossings(key, period.start),
      this.tierOffers(featureCode),
    ]);
    const daily = new Map<string, number>();
    const periodDaily = new Map<string, number>();
    for (const row of rows) {
      daily.set(row.day, (daily.get(row.day) ?? 0) + row.quantity);
      if (row.periodStart.getTime() === period.start.getTime()) periodDaily.set(row.day, row.quantity);
    }
    const insights = usageInsights({
      now,
      period,
      allocated: plan.limitOf(featureCode),
      used: total.used,
      events: total.events,
      daily,
      periodDaily,
      unit: declaration.unit,
      currentTierCode: plan.tierCode,
      tiers: offers,
    });
    return { featureCode, ...insights, usageAlertHistory: crossings };
  }

  /** Active public tiers with their allocation of the feature (a tier that does not enable it allocates none). */
  private async tierOffers(featureCode: string): Promise<TierOffer[]> {
    const tiers = await this.deps.tierStore.tiers(false);
    const limits = await Promise.all(tiers.map((t) => this.deps.tierLoaders.limitsOfTier.load(t.id)));
    return tiers.map((tier, i) => {
      const limit = limits[i].find((l) => l.featureCode === featureCode);
      return { code: tier.code, name: tier.name, priceMonthlyCents: tier.priceMonthlyCents, allocation: effectiveLimit(limit && { enabled: limit.enabled, limit: limit.limitValue }) };
    });
  }

  async history(store: StoreParent, featureCode: string, last: number) {
    const { merchantId, platformId } = await verifiedStore(this.caller, store, this.deps.stores);
    await this.meteredFeature(featureCode);
    if (!Number.isInteger(last) || last < 1 || last > 36) throw new BadUserInputError('last must be between 1 and 36', 'last');
    return this.deps.usageStore.history({ merchantId, platformId, featureCode }, last, this.deps.clock());
  }
}

/** An event's refusal in its result: the error's code, field and message, and what was in use when that is known. */
function refuseResult(result: RecordResult, error: AppError, extra: { current?: number | null; limit?: number | null }): void {
  const ext = error.extensions as { code: string; field?: string };
  Object.assign(result, { errorCode: ext.code, errorField: ext.field ?? null, errorMessage: error.message, error, ...extra });
  if (extra.current !== undefined && extra.current !== null) result.remaining = remainingOf(extra.current, extra.limit ?? null);
}

function blank(raw: unknown): RecordResult {
  const r = (raw ?? {}) as { idempotencyKey?: unknown; featureCode?: unknown };
  return {
    idempotencyKey: typeof r.idempotencyKey === 'string' ? r.idempotencyKey : '',
    featureCode: typeof r.featureCode === 'string' ? r.featureCode : '',
    accepted: false,
    duplicate: false,
    errorCode: null,
    errorField: null,
    errorMessage: null,
    error: null,
    current: null,
    limit: null,
    remaining: null,
  };
}

