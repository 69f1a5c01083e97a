import DataLoader from 'dataloader';
import { findByKeys, findGroupedByKeys, notifyEntitlementsChanged, notifyTagsChanged, tag } from '@tiergraph/runtime';
import type { DataSource } from 'typeorm';
import { SubscriptionTierEntity, TierFeatureLimitEntity } from '../database/entities';

/** A tier's limit for one feature as it is written. */
export interface LimitRow {
  featureCode: string;
  limitValue: number | null;
  enabled: boolean;
}

/** The SQL of tiers and their feature limits; a change of limits notifies every entitlement cache. */
export class TierStore {
  constructor(private readonly db: DataSource) {}

  tiers(includeInactive: boolean): Promise<SubscriptionTierEntity[]> {
    return this.db.getRepository(SubscriptionTierEntity).find({
      where: includeInactive ? {} : { isActive: true, isPublic: true },
      order: { displayOrder: 'ASC', code: 'ASC' },
    });
  }

  /** Every tier and every tier's limits (each tier's in feature-code order), what TierCatalog keeps. */
  async everyTier(): Promise<{ tiers: SubscriptionTierEntity[]; limits: TierFeatureLimitEntity[] }> {
    const [tiers, limits] = await Promise.all([
      this.db.getRepository(SubscriptionTierEntity).find(),
      this.db.getRepository(TierFeatureLimitEntity).find({ order: { featureCode: 'ASC' } }),
    ]);
    return { tiers, limits };
  }

  limitsOfTiers(tierIds: readonly string[]): Promise<TierFeatureLimitEntity[][]> {
    return findGroupedByKeys(this.db, TierFeatureLimitEntity, { column: 'tier_id', property: 'tierId' }, tierIds, [['e.feature_code', 'ASC']]);
  }

  // tier rows (names, prices) are in cached answers under the `tiers` response tag (response-tags.ts)
  insertTier(values: Partial<SubscriptionTierEntity>): Promise<SubscriptionTierEntity> {
    return this.db.transaction(async (manager) => {
      const repo = manager.getRepository(SubscriptionTierEntity);
      const saved = await repo.save(repo.create(values));
      await notifyTagsChanged(manager, [tag.tiers]);
      return saved;
    });
  }

  async updateTier(code: string, values: Partial<SubscriptionTierEntity>): Promise<SubscriptionTierEntity | null> {
    return this.db.transaction(async (manager) => {
      const repo = manager.getRepository(SubscriptionTierEntity);
      if (Object.keys(values).length) await repo.update({ code }, values);
      await notifyTagsChanged(manager, [tag.tiers]);
      return repo.findOneBy({ code });
    });
  }

  /** Deletes a tier nobody subscribes to, atomically: 'in-use' when a subscription refers to it. */
  deleteTier(code: string): Promise<'deleted' | 'not-found' | 'in-use'> {
    return this.db.transaction(async (manager) => {
      const [tier]: Array<{ id: string }> = await manager.query(`SELECT id FROM billing.subscription_tiers WHERE code = $1 FOR UPDATE`, [code]);
      if (!tier) return 'not-found';
      const [{ used }] = await manager.query(`SELECT EXISTS (SELECT 1 FROM billing.merchant_subscriptions WHERE tier_id = $1) AS used`, [tier.id]);
      if (used) return 'in-use';
      await manager.query(`DELETE FROM billing.subscription_tiers WHERE id = $1`, [tier.id]);
      await notifyTagsChanged(manager, [tag.tiers]);
      return 'deleted';
    });
  }

  /** Replaces a tier's limits in one transaction and tells every cache. */
  replaceTierLimits(tierId: string, limits: LimitRow[]): Promise<void> {
    return this.db.transaction(async (manager) => {
      await manager.query(`DELETE FROM billing.tier_feature_limits WHERE tier_id = $1 AND NOT (feature_code = ANY($2))`, [
        tierId,
        limits.map((l) => l.featureCode),
      ]);
      // every row in one statement, however many limits
      await manager.query(
        `INSERT INTO billing.tier_feature_limits (tier_id, feature_code, limit_value, enabled)
         SELECT $1, * FROM unnest($2::text[], $3::int[], $4::bool[])
         ON CONFLICT (tier_id, feature_code) DO UPDATE SET limit_value = EXCLUDED.limit_value, enabled = EXCLUDED.enabled`,
        [tierId, limits.map((l) => l.featureCode), limits.map((l) => l.limitValue), limits.map((l) => l.enabled)],
      );
      await notifyEntitlementsChanged(manager, { all: true });
    });
  }

  /** Per-request batching: one statement per kind of read. */
  createLoaders() {
    return {
      tierByCode: new DataLoader((codes: readonly string[]) => findByKeys(this.db, SubscriptionTierEntity, 'code', codes)),
      tierById: new DataLoader((ids: readonly string[]) => findByKeys(this.db, SubscriptionTierEntity, 'id', ids)),
      limitsOfTier: new DataLoader((ids: readonly string[]) => this.limitsOfTiers(ids)),
    };
  }
}

export type TierLoaders = ReturnType<TierStore['createLoaders']>;
