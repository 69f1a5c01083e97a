import DataLoader from 'dataloader';
import { findByKeys, notifyEntitlementsChanged, type EntitlementChange, type FeatureDeclaration, type SubscriptionStatus } from '@tiergraph/runtime';
import type { DataSource, EntityManager } from 'typeorm';
import type { LimitRow } from '../domain/feature-summary';
import {
  AddOnProductEntity,
  BillingHistoryEntity,
  FeatureDeclarationEntity,
  MerchantFeatureOverrideEntity,
  MerchantSubscriptionEntity,
  StoreAddOnEntity,
  SubscriptionHistoryEntity,
  SubscriptionTierEntity,
  TierFeatureLimitEntity,
} from './entities';

export interface MerchantPlatform {
  merchantId: string;
  platformId: string;
}
const pairKey = (p: MerchantPlatform) => `${p.merchantId}:${p.platformId}`;

export interface SubscriptionFilter {
  status?: SubscriptionStatus | null;
  tierCode?: string | null;
  search?: string | null;
}

export interface SubscriptionPage {
  rows: MerchantSubscriptionEntity[];
  hasNextPage: boolean;
}

export interface StatsRow {
  totalTiers: number;
  activeTiers: number;
  publicTiers: number;
  totalSubscriptions: number;
  activeSubscriptions: number;
  trialSubscriptions: number;
  pastDueSubscriptions: number;
  cancelledSubscriptions: number;
  mrrCents: number;
}

/** Groups rows under the keys asked for, keeping the keys' order. */
function groupUnder<T>(keys: readonly string[], rows: T[], keyOf: (row: T) => string): T[][] {
  const groups = new Map<string, T[]>(keys.map((k) => [k, []]));
  for (const row of rows) groups.get(keyOf(row))?.push(row);
  return keys.map((k) => groups.get(k) ?? []);
}

/** The :merchants and :platforms arrays of `(merchant_id, platform_id) IN (SELECT * FROM unnest(…))` for a batch. */
function pairParameters(pairs: readonly MerchantPlatform[]): { merchants: string[]; platforms: string[] } {
  return { merchants: pairs.map((p) => p.merchantId), platforms: pairs.map((p) => p.platformId) };
}

/** Owns billing's SQL. Reads a resolver can fan out over are batched; writes notify the entitlement caches. */
export class BillingStore {
  constructor(private readonly db: DataSource) {}

  // ───────────── tiers ─────────────

  tiers(includeInactive: boolean): Promise<SubscriptionTierEntity[]> {
    return this.db.getRepository(SubscriptionTierEntity).find({
      where: includeInactive ? {} : { isActive: true, isPublic: true },
      order: { displayOrder: 'ASC', code: 'ASC' },
    });
  }

  async limitsOfTiers(tierIds: readonly string[]): Promise<TierFeatureLimitEntity[][]> {
    const rows = await this.db
      .getRepository(TierFeatureLimitEntity)
      .createQueryBuilder('l')
      .where('l.tier_id = ANY(:ids)', { ids: [...tierIds] })
      .orderBy('l.feature_code')
      .getMany();
    return groupUnder(tierIds, rows, (r) => r.tierId);
  }

  insertTier(values: Partial<SubscriptionTierEntity>): Promise<SubscriptionTierEntity> {
    const repo = this.db.getRepository(SubscriptionTierEntity);
    return repo.save(repo.create(values));
  }

  async updateTier(code: string, values: Partial<SubscriptionTierEntity>): Promise<SubscriptionTierEntity | null> {
    const repo = this.db.getRepository(SubscriptionTierEntity);
    if (Object.keys(values).length) await repo.update({ code }, values);
    return repo.findOneBy({ code });
  }

  /** Deletes a tier nobody subscribes to, atomically: 'in-use' when a subscription refers to it. */
  deleteTier(code: string): Promise<'deleted' | 'not-found' | 'in-use'> {
    return this.db.transaction(async (manager) => {
      const [tier]: Array<{ id: string }> = await manager.query(`SELECT id FROM billing.subscription_tiers WHERE code = $1 FOR UPDATE`, [code]);
      if (!tier) return 'not-found';
      const [{ used }] = await manager.query(`SELECT EXISTS (SELECT 1 FROM billing.merchant_subscriptions WHERE tier_id = $1) AS used`, [tier.id]);
      if (used) return 'in-use';
      await manager.query(`DELETE FROM billing.subscription_tiers WHERE id = $1`, [tier.id]);
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
      for (const l of limits) {
        await manager.query(
          `INSERT INTO billing.tier_feature_limits (tier_id, feature_code, limit_value, enabled) VALUES ($1, $2, $3, $4)
           ON CONFLICT (tier_id, feature_code) DO UPDATE SET limit_value = EXCLUDED.limit_value, enabled = EXCLUDED.enabled`,
          [tierId, l.featureCode, l.limitValue, l.enabled],
        );
      }
      await notifyEntitlementsChanged(manager, { all: true });
    });
  }

  // ───────────── overrides ─────────────

  async overridesOf(pairs: readonly MerchantPlatform[]): Promise<MerchantFeatureOverrideEntity[][]> {
    const rows = await this.db
      .getRepository(MerchantFeatureOverrideEntity)
      .createQueryBuilder('o')
      .where(`(o.merchant_id, o.platform_id) IN (SELECT * FROM unnest(:merchants::uuid[], :platforms::uuid[]))`, pairParameters(pairs))
      .orderBy('o.feature_code')
      .getMany();
    return groupUnder(pairs.map(pairKey), rows, pairKey);
  }

  replaceOverrides(pair: MerchantPlatform, overrides: LimitRow[]): Promise<void> {
    return this.db.transaction(async (manager) => {
      await manager.query(
        `DELETE FROM billing.merchant_feature_overrides WHERE merchant_id = $1 AND platform_id = $2 AND NOT (feature_code = ANY($3))`,
        [pair.merchantId, pair.platformId, overrides.map((o) => o.featureCode)],
      );
      for (const o of overrides) {
        await manager.query(
          `INSERT INTO billing.merchant_feature_overrides (merchant_id, platform_id, feature_code, limit_value, is_enabled)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (merchant_id, platform_id, feature_code) DO UPDATE SET limit_value = EXCLUDED.limit_value, is_enabled = EXCLUDED.is_enabled`,
          [pair.merchantId, pair.platformId, o.featureCode, o.limitValue, o.enabled],
        );
      }
      await notifyEntitlementsChanged(manager, pair);
    });
  }

  // ───────────── subscriptions ─────────────

  async subscriptionsOf(pairs: readonly MerchantPlatform[]): Promise<(MerchantSubscriptionEntity | null)[]> {
    const rows = await this.db
      .getRepository(MerchantSubscriptionEntity)
      .createQueryBuilder('s')
      .where(`(s.merchant_id, s.platform_id) IN (SELECT * FROM unnest(:merchants::uuid[], :platforms::uuid[]))`, pairParameters(pairs))
      .getMany();
    const byPair = new Map(rows.map((r) => [pairKey(r), r]));
    return pairs.map((p) => byPair.get(pairKey(p)) ?? null);
  }

  async historyOf(subscriptionIds: readonly string[]): Promise<SubscriptionHistoryEntity[][]> {
    const rows = await this.db
      .getRepository(SubscriptionHistoryEntity)
      .createQueryBuilder('h')
      .where('h.subscription_id = ANY(:ids)', { ids: [...subscriptionIds] })
      .orderBy('h.changed_at', 'DESC')
      .addOrderBy('h.seq', 'DESC')
      .getMany();
    return groupUnder(subscriptionIds, rows, (h) => h.subscriptionId);
  }

  /**
   * Writes a subscription and its history entries in one transaction, serialised per merchant and platform,
   * and notifies every entitlement cache when it commits. `change` gets the current row (null: none yet).
   */
  writeSubscription(
    pair: MerchantPlatform,
    change: (current: MerchantSubscriptionEntity | null, manager: EntityManager) => Promise<{
      subscription: Partial<MerchantSubscriptionEntity>;
      history: Array<Omit<SubscriptionHistoryEntity, 'id' | 'subscriptionId' | 'seq'>>;
    }>,
  ): Promise<MerchantSubscriptionEntity> {
    return this.db.transaction(async (manager) => {
      const repo = manager.getRepository(MerchantSubscriptionEntity);
      await manager.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`billing:subscription:${pairKey(pair)}`]);
      const current = await repo.findOneBy({ merchantId: pair.merchantId, platformId: pair.platformId });
      const { subscription, history } = await change(current, manager);
      const saved = await repo.save(current ? repo.merge(current, subscription) : repo.create({ ...pair, ...subscription }));
      if (history.length) {
        const historyRepo = manager.getRepository(SubscriptionHistoryEntity);
        await historyRepo.insert(history.map((h) => ({ ...h, subscriptionId: saved.id })));
      }
      await notifyEntitlementsChanged(manager, pair);
      return saved;
    });
  }

  async page(filter: SubscriptionFilter, first: number, after: { merchantName: string; id: string } | null): Promise<SubscriptionPage> {
    const query = this.filtered(filter).orderBy('s.merchant_name').addOrderBy('s.id').limit(first + 1);
    if (after) query.andWhere('(s.merchant_name, s.id) > (:afterName, :afterId)', { afterName: after.merchantName, afterId: after.id });
    const rows = await query.getMany();
    return { rows: rows.slice(0, first), hasNextPage: rows.length > first };
  }

  count(filter: SubscriptionFilter): Promise<number> {
    return this.filtered(filter).getCount();
  }

  private filtered(filter: SubscriptionFilter) {
    const query = this.db.getRepository(MerchantSubscriptionEntity).createQueryBuilder('s');
    if (filter.status) query.andWhere('s.status = :status', { status: filter.status });
    if (filter.tierCode) {
      query.andWhere('s.tier_id = (SELECT id FROM billing.subscription_tiers WHERE code = :tierCode)', { tierCode: filter.tierCode });
    }
    if (filter.search) {
      const pattern = `%${filter.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      query.andWhere('s.merchant_name ILIKE :pattern', { pattern });
    }
    return query;
  }

  async stats(): Promise<StatsRow> {
    const [row] = await this.db.query(`
      SELECT
        (SELECT count(*) FROM billing.subscription_tiers)::int AS "totalTiers",
        (SELECT count(*) FROM billing.subscription_tiers WHERE is_active)::int AS "activeTiers",
        (SELECT count(*) FROM billing.subscription_tiers WHERE is_active AND is_public)::int AS "publicTiers",
        count(s.id)::int AS "totalSubscriptions",
        count(s.id) FILTER (WHERE s.status = 'ACTIVE')::int AS "activeSubscriptions",
        count(s.id) FILTER (WHERE s.status = 'TRIAL')::int AS "trialSubscriptions",
        count(s.id) FILTER (WHERE s.status = 'PAST_DUE')::int AS "pastDueSubscriptions",
        count(s.id) FILTER (WHERE s.status = 'CANCELLED')::int AS "cancelledSubscriptions",
        coalesce(sum(
          CASE WHEN s.billing_cycle = 'ANNUAL' AND t.price_annual_cents IS NOT NULL THEN t.price_annual_cents / 12.0
               ELSE t.price_monthly_cents END
        ) FILTER (WHERE s.status IN ('ACTIVE', 'PAST_DUE')), 0) AS "mrr"
      FROM billing.merchant_subscriptions s
      JOIN billing.subscription_tiers t ON t.id = s.tier_id`);
    const { mrr, ...counts } = row;
    return { ...counts, mrrCents: Math.round(Number(mrr)) };
  }

  // ───────────── feature declarations ─────────────

  declarations(): Promise<FeatureDeclarationEntity[]> {
    return this.db.getRepository(FeatureDeclarationEntity).find({ order: { category: 'ASC', displayOrder: 'ASC', code: 'ASC' } });
  }

  /**
   * Replaces one owner's declarations in one transaction. A code another owner holds is never taken over (the
   * upsert only updates the same owner's row): such codes are returned, and nothing is written.
   */
  /**
   * The owner's declarations become exactly these; nothing changes when a code belongs to another owner (`taken`)
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

  // ───────────── add-ons and invoices ─────────────

  addOnProducts(): Promise<AddOnProductEntity[]> {
    return this.db.getRepository(AddOnProductEntity).find({ where: { isActive: true }, order: { displayOrder: 'ASC' } });
  }

  async addOnsOfStores(keys: ReadonlyArray<{ storeId: string; merchantId: string }>): Promise<StoreAddOnEntity[][]> {
    const rows = await this.db
      .getRepository(StoreAddOnEntity)
      .createQueryBuilder('a')
      .where(`(a.store_id, a.merchant_id) IN (SELECT * FROM unnest(:stores::uuid[], :merchants::uuid[]))`, {
        stores: keys.map((k) => k.storeId),
        merchants: keys.map((k) => k.merchantId),
      })
      .orderBy('a.created_at')
      .getMany();
    const keyOf = (k: { storeId: string; merchantId: string }) => `${k.storeId}:${k.merchantId}`;
    return groupUnder(keys.map(keyOf), rows, keyOf);
  }

  async invoicesOf(pairs: readonly MerchantPlatform[]): Promise<BillingHistoryEntity[][]> {
    const rows = await this.db
      .getRepository(BillingHistoryEntity)
      .createQueryBuilder('b')
      .where(`(b.merchant_id, b.platform_id) IN (SELECT * FROM unnest(:merchants::uuid[], :platforms::uuid[]))`, pairParameters(pairs))
      .orderBy('b.created_at', 'DESC')
      .getMany();
    return groupUnder(pairs.map(pairKey), rows, pairKey);
  }

  // ───────────── Stripe links ─────────────

  async stripeCustomerOf(merchantId: string): Promise<string | null> {
    const [row] = await this.db.query(`SELECT stripe_customer_id FROM billing.stripe_customers WHERE merchant_id = $1`, [merchantId]);
    return row?.stripe_customer_id ?? null;
  }

  /** Keeps the first customer recorded for a merchant (racing checkouts get the same one back). */
  async saveStripeCustomer(merchantId: string, customerId: string): Promise<string> {
    const [row] = await this.db.query(
      `WITH inserted AS (
         INSERT INTO billing.stripe_customers (merchant_id, stripe_customer_id) VALUES ($1, $2)
         ON CONFLICT (merchant_id) DO NOTHING RETURNING stripe_customer_id)
       SELECT stripe_customer_id FROM inserted
       UNION ALL SELECT stripe_customer_id FROM billing.stripe_customers WHERE merchant_id = $1
       LIMIT 1`,
      [merchantId, customerId],
    );
    return row.stripe_customer_id;
  }

  /** Whether the merchant ever had a Stripe subscription (on any platform): only the first one gets a trial. */
  async hasHadStripeSubscription(merchantId: string): Promise<boolean> {
    const [{ had }] = await this.db.query(
      `SELECT EXISTS (SELECT 1 FROM billing.merchant_subscriptions WHERE merchant_id = $1 AND stripe_subscription_id IS NOT NULL) AS had`,
      [merchantId],
    );
    return had;
  }

  addOnProductsByCodes(codes: readonly string[]) {
    return findByKeys(this.db, AddOnProductEntity, 'code', codes);
  }

  storeAddOnsByIds(ids: readonly string[]) {
    return findByKeys(this.db, StoreAddOnEntity, 'id', ids);
  }

  async cancelStoreAddOn(id: string): Promise<StoreAddOnEntity> {
    await this.db.query(`UPDATE billing.store_add_ons SET status = 'cancelled' WHERE id = $1`, [id]);
    return (await this.db.getRepository(StoreAddOnEntity).findOneBy({ id }))!;
  }

  /** Per-request batching: one statement per kind of read, however many entities a plan asks for. */
  createLoaders() {
    return {
      tierByCode: new DataLoader((codes: readonly string[]) => findByKeys(this.db, SubscriptionTierEntity, 'code', codes)),
      tierById: new DataLoader((ids: readonly string[]) => findByKeys(this.db, SubscriptionTierEntity, 'id', ids)),
      limitsOfTier: new DataLoader((ids: readonly string[]) => this.limitsOfTiers(ids)),
      subscriptionById: new DataLoader((ids: readonly string[]) => findByKeys(this.db, MerchantSubscriptionEntity, 'id', ids)),
      subscriptionOf: new DataLoader((pairs: readonly MerchantPlatform[]) => this.subscriptionsOf(pairs), { cacheKeyFn: pairKey }),
      overridesOf: new DataLoader((pairs: readonly MerchantPlatform[]) => this.overridesOf(pairs), { cacheKeyFn: pairKey }),
      historyOf: new DataLoader((ids: readonly string[]) => this.historyOf(ids)),
      addOnsOfStore: new DataLoader((keys: ReadonlyArray<{ storeId: string; merchantId: string }>) => this.addOnsOfStores(keys), {
        cacheKeyFn: (k) => `${k.storeId}:${k.merchantId}`,
      }),
      addOnProductByCode: new DataLoader((codes: readonly string[]) => findByKeys(this.db, AddOnProductEntity, 'code', codes)),
      invoicesOf: new DataLoader((pairs: readonly MerchantPlatform[]) => this.invoicesOf(pairs), { cacheKeyFn: pairKey }),
    };
  }
}

export type BillingLoaders = ReturnType<BillingStore['createLoaders']>;
export { pairKey };
