import DataLoader from 'dataloader';
import { groupUnder } from '@tiergraph/runtime';
import type { SubscriptionTierEntity, TierFeatureLimitEntity } from '../database/entities';
import type { TierStore } from './tier-store';

/** Every tier by id and every tier's limits (feature-code order), as read at one moment. */
interface TierSnapshot {
  tiers: Map<string, SubscriptionTierEntity>;
  limits: Map<string, TierFeatureLimitEntity[]>;
}

/**
 * The tiers and their feature limits, kept in this process (a handful of rows, rarely written, read by every
 * subscription's answer). Invalidated on every change: the tables' trigger (migration TierChangeNotify) NOTIFYs
 * `{ all: true }` on the entitlements channel in the writing transaction, whoever writes (TierStore, plain SQL, another
 * process), so other processes drop it when the NOTIFY arrives, moments after the commit; this process's own writes
 * drop it once committed, before they answer. While the change listener is down nothing is kept: every read goes to
 * the database.
 *
 * The promise of a read is kept, so concurrent misses share one read, and an invalidation also drops a read in
 * flight (its callers get what it read; the next read starts anew). For answers only: limits are enforced from the
 * database (DatabaseEntitlements, and metered usage through its own PlanReader).
 */
export class TierCatalog {
  private current: Promise<TierSnapshot> | undefined;

  constructor(
    private readonly store: TierStore,
    /** Whether the entitlement change listener is connected (subgraph.ts entitlementListenerLive). */
    private readonly live: () => boolean,
  ) {}

  private snapshot(): Promise<TierSnapshot> {
    if (!this.live()) {
      this.current = undefined;
      return this.read();
    }
    if (!this.current) {
      const reading = this.read();
      this.current = reading;
      reading.catch(() => {
        if (this.current === reading) this.current = undefined;
      });
    }
    return this.current;
  }

  private async read(): Promise<TierSnapshot> {
    const { tiers, limits } = await this.store.everyTier();
    const ids = tiers.map((t) => t.id);
    const grouped = groupUnder(ids, limits, (limit) => limit.tierId);
    return { tiers: new Map(tiers.map((t) => [t.id, t])), limits: new Map(ids.map((id, i) => [id, grouped[i]])) };
  }

  /** Drops what is kept (a change was notified, or this process wrote tiers). */
  invalidate(): void {
    this.current = undefined;
  }

  /**
   * A snapshot that has every tier of `ids`: a tier it lacks may have been created after it was read, its NOTIFY not
   * here yet (a subscription moved onto it meanwhile): then it is read again (an id of no tier costs that read too).
   */
  private async snapshotWith(ids: readonly string[]): Promise<TierSnapshot> {
    // a read made while the listener is down is made now, for this request: what it lacks does not exist
    const fresh = !this.live();
    const reading = this.snapshot();
    const snapshot = await reading;
    if (fresh || ids.every((id) => snapshot.tiers.has(id.toLowerCase()))) return snapshot;
    // only the read that lacked them is dropped: one begun since (an invalidation, another caller) is newer already
    if (this.current === reading) this.invalidate();
    return this.snapshot();
  }

  /** A request's loaders, as TierStore's (ids matched regardless of case, like findByKeys). */
  createLoaders() {
    return {
      tierById: new DataLoader(async (ids: readonly string[]) => {
        const { tiers } = await this.snapshotWith(ids);
        return ids.map((id) => tiers.get(id.toLowerCase()) ?? null);
      }),
      limitsOfTier: new DataLoader(async (ids: readonly string[]) => {
        const { limits } = await this.snapshotWith(ids);
        return ids.map((id) => limits.get(id.toLowerCase()) ?? []);
      }),
    };
  }
}

export type TierCatalogLoaders = ReturnType<TierCatalog['createLoaders']>;
