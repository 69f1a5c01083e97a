import { notifyEntitlementsChanged, type EntitlementChange, type FeatureDeclaration } from '@tiergraph/runtime';
import type { DataSource } from 'typeorm';
import { FeatureDeclarationEntity } from '../database/entities';

/** The SQL of the feature catalog: the owners' declarations. */
export class FeatureCatalogStore {
  constructor(private readonly db: DataSource) {}

  declarations(): Promise<FeatureDeclarationEntity[]> {
    return this.db.getRepository(FeatureDeclarationEntity).find({ order: { category: 'ASC', displayOrder: 'ASC', code: 'ASC' } });
  }

  /**
   * Replaces one owner's declarations in one transaction; the owner's declarations become exactly these; nothing changes when a code belongs to another owner (`taken`)
   * or when a withdrawn code is still used by a tier's limits or a merchant's overrides (`inUse`).
   */
  replaceDeclarations(owner: string, declarations: FeatureDeclaration[]): Promise<{ taken: string[]; inUse: string[] }> {
    return this.db.transaction(async (manager) => {
      const codes = declarations.map((d) => d.code);
      const taken: Array<{ code: string }> = await manager.query(
        `SELECT code FROM billing.feature_declarations WHERE code = ANY($1) AND owner <> $2 FOR UPDATE`,
        [codes, owner],
      );
      if (taken.length) return { taken: taken.map((t) => t.code), inUse: [] };
      const inUse: Array<{ code: string }> = await manager.query(
        `SELECT d.code FROM billing.feature_declarations d
         WHERE d.owner = $1 AND NOT (d.code = ANY($2))
           AND (EXISTS (SELECT 1 FROM billing.tier_feature_limits l WHERE l.feature_code = d.code)
             OR EXISTS (SELECT 1 FROM billing.merchant_feature_overrides o WHERE o.feature_code = d.code))
         ORDER BY d.code FOR UPDATE OF d`,
        [owner, codes],
      );
      if (inUse.length) return { taken: [], inUse: inUse.map((u) => u.code) };
      await manager.query(`DELETE FROM billing.feature_declarations WHERE owner = $1 AND NOT (code = ANY($2))`, [owner, codes]);
      for (const d of declarations) {
        await manager.query(
          `INSERT INTO billing.feature_declarations (code, owner, name, description, category, feature_type, scope, unit, display_order, measurement)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
           ON CONFLICT (code) DO UPDATE SET owner = EXCLUDED.owner, name = EXCLUDED.name, description = EXCLUDED.description,
             category = EXCLUDED.category, feature_type = EXCLUDED.feature_type, scope = EXCLUDED.scope, unit = EXCLUDED.unit,
             display_order = EXCLUDED.display_order, measurement = EXCLUDED.measurement
           WHERE feature_declarations.owner = EXCLUDED.owner`,
          [d.code, owner, d.name, d.description, d.category, d.featureType, d.scope, d.unit, d.displayOrder, d.measurement ?? 'COMPUTED'],
        );
      }
      await notifyEntitlementsChanged(manager, { all: true } satisfies EntitlementChange);
      return { taken: [], inUse: [] };
    });
  }
}
