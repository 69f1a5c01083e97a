import DataLoader from 'dataloader';
import { entityFromJson, entityJsonSql, findGroupedByPairs, merchantPlatformKey, notifyEntitlementsChanged, type MerchantPlatform } from '@tiergraph/runtime';
import type { DataSource } from 'typeorm';
import { MerchantFeatureOverrideEntity } from '../database/entities';
import type { LimitRow } from '../tiers/tier-store';

/** The SQL of merchants' feature overrides; a change notifies the merchant's entitlement caches. */
export class OverrideStore {
  constructor(private readonly db: DataSource) {}

  /** Each pair's overrides, in feature-code order. */
  overridesOf(pairs: readonly MerchantPlatform[]): Promise<MerchantFeatureOverrideEntity[][]> {
    return findGroupedByPairs(this.db, MerchantFeatureOverrideEntity, pairs, [['e.feature_code', 'ASC']]);
  }

  /**
   * The overrides of the subscription row on `alias` as one JSON array, in overridesOf's order: a sub-select for a read
   * of subscriptions that brings their overrides along (PlanStore); `overridesFromJson` reads its value.
   */
  overridesOfSubscriptionSql(alias: string): string {
    // an inner alias no caller uses: `alias` must name the outer row
    return `SELECT coalesce(json_agg(${(this.overrideJson ??= entityJsonSql(this.db, MerchantFeatureOverrideEntity, 'override_'))} ORDER BY override_.feature_code), '[]'::json)
      FROM billing.merchant_feature_overrides override_ WHERE override_.merchant_id = ${alias}.merchant_id AND override_.platform_id = ${alias}.platform_id`;
  }
  private overrideJson?: string;

  overridesFromJson(json: unknown): MerchantFeatureOverrideEntity[] {
    const read = (this.overrideFromJson ??= entityFromJson(this.db, MerchantFeatureOverrideEntity));
    return (json as Array<Record<string, unknown>>).map(read);
  }
  private overrideFromJson?: (json: Record<string, unknown>) => MerchantFeatureOverrideEntity;

  replaceOverrides(pair: MerchantPlatform, overrides: LimitRow[]): Promise<void> {
    return this.db.transaction(async (manager) => {
      await manager.query(
        `DELETE FROM billing.merchant_feature_overrides WHERE merchant_id = $1 AND platform_id = $2 AND NOT (feature_code = ANY($3))`,
        [pair.merchantId, pair.platformId, overrides.map((o) => o.featureCode)],
      );
      // every row in one statement, however many overrides
      await manager.query(
        `INSERT INTO billing.merchant_feature_overrides (merchant_id, platform_id, feature_code, limit_value, is_enabled)
         SELECT $1, $2, * FROM unnest($3::text[], $4::int[], $5::bool[])
         ON CONFLICT (merchant_id, platform_id, feature_code) DO UPDATE SET limit_value = EXCLUDED.limit_value, is_enabled = EXCLUDED.is_enabled`,
        [pair.merchantId, pair.platformId, overrides.map((o) => o.featureCode), overrides.map((o) => o.limitValue), overrides.map((o) => o.enabled)],
      );
      await notifyEntitlementsChanged(manager, pair);
    });
  }

  createLoaders() {
    return {
      overridesOf: new DataLoader((pairs: readonly MerchantPlatform[]) => this.overridesOf(pairs), { cacheKeyFn: merchantPlatformKey }),
    };
  }
}

export type OverrideLoaders = ReturnType<OverrideStore['createLoaders']>;
