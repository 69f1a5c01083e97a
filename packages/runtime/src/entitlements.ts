import type { DataSource, EntityManager } from 'typeorm';
import { AppError } from './errors';
import { callSubgraph, type ServiceCredentials } from './internal-client';
import { merchantPlatformKey, type MerchantPlatform } from './keys';
import type { EntitlementChange } from './notify';
import { changedTags, tag, writeRolledBack } from './response-tags';

/**
 * The mechanism of entitlements: their wire shape, the client that asks billing, the cache invalidated by NOTIFY,
 * and the per-feature lock. The rules (which statuses are active, what a disabled feature allows, the limit check)
 * are in @tiergraph/plans.
 */

/** Every status a subscription can have, in the schema's order. */
export const SUBSCRIPTION_STATUSES = ['TRIAL', 'ACTIVE', 'PAST_DUE', 'CANCELLED', 'EXPIRED'] as const;
export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];

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

/** Billing could not be asked: creation fails closed. */
export class EntitlementsUnavailableError extends AppError {
  constructor(reason: string) {
    // retryable: billing (or its database) is down or restarting, the same request may pass a moment later
    super(`billing cannot be reached to check the plan's limits (${reason}); nothing was created`, 'ENTITLEMENTS_UNAVAILABLE', { retryable: true });
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
    private readonly serviceToken: ServiceCredentials,
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
    const key = merchantPlatformKey({ merchantId, platformId });
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
    else this.entries.delete(merchantPlatformKey(change));
  }

  setLive(live: boolean): void {
    this.live = live;
    if (!live) this.entries.clear();
  }
}

/**
 * Serialises the creators of one feature for one merchant on one platform until the transaction ends (an advisory
 * lock on (feature, merchant:platform)): the count under it and the insert after it see every earlier creation.
 */
export async function lockFeature(manager: EntityManager, featureCode: string, pair: MerchantPlatform): Promise<void> {
  await manager.query('SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))', [featureCode, merchantPlatformKey(pair)]);
}

/**
 * `work` in one transaction that first takes the feature's lock of `pair` (see lockFeature): the frame every
 * create-within-a-limit runs in, so the count under the lock and the insert after it commit or roll back together.
 */
export function inFeatureLock<T>(db: DataSource, featureCode: string, pair: MerchantPlatform, work: (manager: EntityManager) => Promise<T>): Promise<T> {
  return db.transaction(async (manager) => {
    await lockFeature(manager, featureCode, pair);
    let result: T;
    try {
      result = await work(manager);
    } catch (error) {
      // thrown inside the transaction, before any COMMIT: it rolls back, nothing of this frame is written (a create
      // refused at the limit, a duplicate): the answer may say it changed nothing, so the gateway keeps its cache
      writeRolledBack();
      throw error;
    }
    // a create within a limit changes what is counted for the pair: this request's answer names it for the gateway's
    // response cache (response-tags.ts), and the counter's trigger NOTIFYs it on commit; a refusal changes nothing
    changedTags(tag.merchantPlatform(pair));
    return result;
  });
}
