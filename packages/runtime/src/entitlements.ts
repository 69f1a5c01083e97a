import type { DataSource, EntityManager } from 'typeorm';
import { AppError } from './errors';
import { callSubgraph } from './internal-client';
import type { EntitlementChange } from './notify';

export type SubscriptionStatus = 'TRIAL' | 'ACTIVE' | 'PAST_DUE' | 'CANCELLED' | 'EXPIRED';
/** Statuses in which a merchant may create things. */
export const ACTIVE_STATUSES: readonly SubscriptionStatus[] = ['TRIAL', 'ACTIVE', 'PAST_DUE'];

/** A merchant's effective entitlement to one feature: the override, else the tier's limit. */
export interface FeatureEntitlement {
  /** null = unlimited */
  limit: number | null;
  enabled: boolean;
}

/** What billing says a merchant may do on a platform, as the owners of counted things need it. */
export interface Entitlements {
  status: SubscriptionStatus | null;
  active: boolean;
  periodStart: string | null;
  periodEnd: string | null;
  features: Record<string, FeatureEntitlement>;
}

export interface EntitlementSource {
  get(merchantId: string, platformId: string): Promise<Entitlements>;
}

export class FeatureLimitReachedError extends AppError {
  constructor(featureCode: string, current: number, limit: number) {
    super(`${featureCode} limit reached (${current}/${limit}): upgrade the plan to add more`, 'FEATURE_LIMIT_REACHED', {
      featureCode,
      current,
      limit,
    });
  }
}

export class SubscriptionInactiveError extends AppError {
  constructor(status: SubscriptionStatus | null) {
    super(
      status ? `the subscription is ${status}: nothing can be created until it is active again` : 'there is no subscription for this merchant on this platform',
      'SUBSCRIPTION_INACTIVE',
      { status },
    );
  }
}

/** Billing could not be asked: creation fails closed. */
export class EntitlementsUnavailableError extends AppError {
  constructor(reason: string) {
    super(`billing cannot be reached to check the plan's limits (${reason}); nothing was created`, 'ENTITLEMENTS_UNAVAILABLE');
  }
}

const ENTITLEMENTS_QUERY = `query Entitlements($merchantId: ID!, $platformId: ID!) {
  entitlements(merchantId: $merchantId, platformId: $platformId) {
    status active periodStart periodEnd features { code limit enabled }
  }
}`;

/** Asks billing's subgraph directly (an internal call with a service token). */
export class BillingEntitlementsClient implements EntitlementSource {
  constructor(
    private readonly billingUrl: string,
    private readonly serviceToken: () => Promise<string>,
    private readonly timeoutMs = 3000,
  ) {}

  async get(merchantId: string, platformId: string): Promise<Entitlements> {
    type Answer = { entitlements: Omit<Entitlements, 'features'> & { features: Array<FeatureEntitlement & { code: string }> } };
    let entitlements: Answer['entitlements'];
    try {
      ({ entitlements } = await callSubgraph<Answer>(this.billingUrl, ENTITLEMENTS_QUERY, { merchantId, platformId }, this.serviceToken, this.timeoutMs));
    } catch (error) {
      throw new EntitlementsUnavailableError((error as Error).message);
    }
    return {
      ...entitlements,
      features: Object.fromEntries(entitlements.features.map(({ code, limit, enabled }) => [code, { limit, enabled }])),
    };
  }
}

/**
 * Entitlements cached per (merchant, platform) in this process, dropped on every change notification.
 * Promises are cached, so concurrent misses share one fetch and an invalidation also drops fetches in flight.
 * While the change listener is down nothing is cached (a TTL alone is not invalidation).
 */
export class EntitlementCache implements EntitlementSource {
  private readonly entries = new Map<string, { value: Promise<Entitlements>; expiresAt?: number }>();
  private live = false;

  constructor(
    private readonly source: EntitlementSource,
    private readonly now: () => number = Date.now,
  ) {}

  get(merchantId: string, platformId: string): Promise<Entitlements> {
    if (!this.live) return this.source.get(merchantId, platformId);
    const key = `${merchantId}:${platformId}`;
    const cached = this.entries.get(key);
    // a period that has ended is a change no one notifies: the next period starts counting from zero
    if (cached && (cached.expiresAt === undefined || this.now() < cached.expiresAt)) return cached.value;
    const entry: { value: Promise<Entitlements>; expiresAt?: number } = { value: this.source.get(merchantId, platformId) };
    this.entries.set(key, entry);
    entry.value.then(
      (entitlements) => {
        if (entitlements.periodEnd) entry.expiresAt = Date.parse(entitlements.periodEnd);
      },
      () => {
        if (this.entries.get(key) === entry) this.entries.delete(key);
      },
    );
    return entry.value;
  }

  invalidate(change: EntitlementChange): void {
    if ('all' in change) this.entries.clear();
    else this.entries.delete(`${change.merchantId}:${change.platformId}`);
  }

  setLive(live: boolean): void {
    this.live = live;
    if (!live) this.entries.clear();
  }
}

/** The limit that applies to a quantitative feature: a feature the plan does not include allows none. */
export function effectiveLimit(entitlements: Entitlements, featureCode: string): number | null {
  const feature = entitlements.features[featureCode];
  if (!feature || !feature.enabled) return 0;
  return feature.limit;
}

export interface CreateWithinLimitOptions<T> {
  dataSource: DataSource;
  entitlements: EntitlementSource;
  featureCode: string;
  merchantId: string;
  platformId: string;
  /** How many the merchant has now, counted inside the lock. */
  count: (manager: EntityManager, entitlements: Entitlements) => Promise<number>;
  create: (manager: EntityManager) => Promise<T>;
}

/**
 * Checks a quantitative limit and creates in one serialised step: inside the owner's transaction, an advisory
 * lock per (feature, merchant, platform) orders concurrent creators, then the count and the insert happen under
 * it. 50 racing creates with k slots left make exactly k rows.
 */
export async function createWithinLimit<T>(options: CreateWithinLimitOptions<T>): Promise<T> {
  const entitlements = await options.entitlements.get(options.merchantId, options.platformId);
  if (!entitlements.active) throw new SubscriptionInactiveError(entitlements.status);
  const limit = effectiveLimit(entitlements, options.featureCode);
  return options.dataSource.transaction(async (manager) => {
    await manager.query('SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))', [
      options.featureCode,
      `${options.merchantId}:${options.platformId}`,
    ]);
    if (limit !== null) {
      const current = await options.count(manager, entitlements);
      if (current >= limit) throw new FeatureLimitReachedError(options.featureCode, current, limit);
    }
    return options.create(manager);
  });
}
