import type { DataSource, EntityManager } from 'typeorm';
import { AppError, inFeatureLock, type EntitlementSource, type Entitlements, type FeatureEntitlement, type MerchantPlatform, type SubscriptionStatus } from '@tiergraph/runtime';

/**
 * The rules of a plan, in one place: billing computes entitlements with them, and catalog, orders, tenancy and media
 * enforce limits with them. Each subgraph's service asks `limitForCreating` (the fail-closed decision), then its
 * store calls `insertWithinLimit`: in one transaction under the runtime's feature lock, `assertWithinLimit` decides
 * with the count taken under that lock, then the insert.
 */

/** Statuses in which a merchant may create things (and is billed). */
export const ACTIVE_STATUSES: readonly SubscriptionStatus[] = ['TRIAL', 'ACTIVE', 'PAST_DUE'];

export const isActiveStatus = (status: SubscriptionStatus): boolean => ACTIVE_STATUSES.includes(status);

/** The limit one feature allows: null is unlimited, and a feature that is not enabled (or not in the plan) allows none. */
export function effectiveLimit(feature: FeatureEntitlement | null | undefined): number | null {
  if (!feature || !feature.enabled) return 0;
  return feature.limit;
}

/** The limit of a quantitative feature in a merchant's entitlements (see effectiveLimit). */
export function limitOf(entitlements: Entitlements, featureCode: string): number | null {
  return effectiveLimit(entitlements.features[featureCode]);
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

/**
 * The decision before creating: the merchant's entitlements (ENTITLEMENTS_UNAVAILABLE when billing cannot be asked:
 * nothing is created), SUBSCRIPTION_INACTIVE without an active subscription, else the limit that applies.
 */
export async function limitForCreating(
  entitlements: EntitlementSource,
  featureCode: string,
  pair: MerchantPlatform,
): Promise<{ limit: number | null; entitlements: Entitlements }> {
  const current = await entitlements.get(pair.merchantId, pair.platformId);
  if (!current.active) throw new SubscriptionInactiveError(current.status);
  return { limit: limitOf(current, featureCode), entitlements: current };
}

/** What is in use and what a creation adds, in `unit`s of the limit (e.g. bytes of a limit in MiB). */
export interface UsageMeasure {
  used: number | bigint;
  /** Default 1: one more row. */
  adding?: number | bigint;
  /** How many of `used` make one unit of the limit; default 1. */
  unit?: number;
}

/** The check itself: whether adding `adding` to `used` would pass `limit` (null: unlimited, never), in `unit`s of the limit. */
export function wouldPassLimit(limit: number | null, used: number | bigint, adding: number | bigint = 1, unit = 1): boolean {
  return limit !== null && BigInt(used) + BigInt(adding) > BigInt(limit) * BigInt(unit);
}

/**
 * The check under the caller's lock: FEATURE_LIMIT_REACHED when what is used plus what is added would pass the
 * limit (the current count in the error is in units of the limit, rounded up). Unlimited (null) measures nothing.
 */
export async function assertWithinLimit(featureCode: string, limit: number | null, measure: () => Promise<UsageMeasure>): Promise<void> {
  if (limit === null) return;
  const { used, adding = 1, unit = 1 } = await measure();
  if (wouldPassLimit(limit, used, adding, unit)) {
    const size = BigInt(unit);
    throw new FeatureLimitReachedError(featureCode, Number((BigInt(used) + size - 1n) / size), limit);
  }
}

/** One create within a limit, as a store hands it to insertWithinLimit. */
export interface WithinLimit<T> {
  featureCode: string;
  /** Whose limit: the lock and the count are this merchant's on this platform. */
  pair: MerchantPlatform;
  /** From limitForCreating; null is unlimited (nothing is measured). */
  limit: number | null;
  /** What is in use (and what the create adds), read in the lock's transaction. */
  measure: (manager: EntityManager) => Promise<UsageMeasure>;
  /** The insert, in the same transaction, once the check passed. */
  insert: (manager: EntityManager) => Promise<T>;
}

/**
 * The one way a limited thing is created: in one transaction, the feature's lock of the merchant on the platform,
 * the measure under it and the check (FEATURE_LIMIT_REACHED), then the insert. Creates that race serialise on the
 * lock, so they never pass the limit; a failing insert rolls everything back.
 */
export function insertWithinLimit<T>(db: DataSource, create: WithinLimit<T>): Promise<T> {
  return inFeatureLock(db, create.featureCode, create.pair, async (manager) => {
    await assertWithinLimit(create.featureCode, create.limit, () => create.measure(manager));
    return create.insert(manager);
  });
}
