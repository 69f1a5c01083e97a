import DataLoader from 'dataloader';
import { insertWithinLimit } from '@tiergraph/plans';
import { aggregatePerPair, changedTags, findByKeys, findGroupedByKeys, isUuid, merchantPlatformKey, tag, type GroupOrder, type MerchantPlatform, type PairAggregate } from '@tiergraph/runtime';
import type { DataSource, EntityManager } from 'typeorm';
import { TEAM_MEMBERS } from '../features';
import { TEAM_MEMBER_COUNTS } from './counters';
import { PlatformEntity, MerchantEntity, StoreEntity, StoreUserEntity, type StoreUserRole } from './entities';

/**
 * What max_team_members counts: the active MEMBERs across the merchant's stores on the platform, read from their
 * counter row (see TEAM_MEMBER_COUNTS), not counted over the users.
 */
const TEAM_MEMBER_COUNT: PairAggregate = {
  from: TEAM_MEMBER_COUNTS.counter,
  columns: ['merchant_id', 'platform_id'],
  aggregate: 'sum(n)',
};

/** Stores and users are listed in the order they were created. */
const CREATED_ORDER: GroupOrder = [
  ['e.created_at', 'ASC'],
  ['e.id', 'ASC'],
];

export interface UserStatsRow {
  owners: number;
  teamMembers: number;
  active: number;
  inactive: number;
}

/** Owns tenancy's SQL. Every read that a resolver can fan out over is a batched `= ANY($1)`. */
export class TenancyStore {
  constructor(private readonly db: DataSource) {}

  private byIds<T extends { id: string }>(entity: new () => T, ids: readonly string[]): Promise<(T | null)[]> {
    return findByKeys(this.db, entity, 'id', ids);
  }

  /** The merchant that owns a store, or null when there is none: how tenancy confirms store tokens (runtime auth.ts). */
  async ownerOfStore(storeId: string): Promise<string | null> {
    if (!isUuid(storeId)) return null;
    const [store] = await this.byIds(StoreEntity, [storeId]);
    return store?.merchantId ?? null;
  }

  /** Emails are unique case-insensitively (merchants_email_key is on lower(email)). */
  merchantByEmail(email: string): Promise<MerchantEntity | null> {
    return this.db.getRepository(MerchantEntity).createQueryBuilder('m').where('lower(m.email) = lower(:email)', { email }).getOne();
  }

  allPlatforms(): Promise<PlatformEntity[]> {
    return this.db.getRepository(PlatformEntity).find({ order: { code: 'ASC' } });
  }

  storesOfMerchants(merchantIds: readonly string[]): Promise<StoreEntity[][]> {
    return findGroupedByKeys(this.db, StoreEntity, { column: 'merchant_id', property: 'merchantId' }, merchantIds, CREATED_ORDER);
  }

  usersOf(column: 'store_id' | 'merchant_id', ids: readonly string[]): Promise<StoreUserEntity[][]> {
    const property = column === 'store_id' ? 'storeId' : 'merchantId';
    return findGroupedByKeys(this.db, StoreUserEntity, { column, property }, ids, CREATED_ORDER);
  }

  async userStatsOfMerchants(merchantIds: readonly string[]): Promise<UserStatsRow[]> {
    const rows: Array<{ merchant_id: string; owners: number; team_members: number; active: number; inactive: number }> =
      await this.db.query(
        `SELECT merchant_id,
                count(*) FILTER (WHERE is_active AND role = 'OWNER')::int  AS owners,
                count(*) FILTER (WHERE is_active AND role = 'MEMBER')::int AS team_members,
                count(*) FILTER (WHERE is_active)::int                     AS active,
                count(*) FILTER (WHERE NOT is_active)::int                 AS inactive
           FROM tenancy.store_users
          WHERE merchant_id = ANY($1)
          GROUP BY merchant_id`,
        [[...merchantIds]],
      );
    const byMerchant = new Map(rows.map((r) => [r.merchant_id, r]));
    return merchantIds.map((id) => {
      const r = byMerchant.get(id);
      return { owners: r?.owners ?? 0, teamMembers: r?.team_members ?? 0, active: r?.active ?? 0, inactive: r?.inactive ?? 0 };
    });
  }

  /** Active MEMBERs per merchant and platform: what max_team_members limits. */
  teamMembersOf(pairs: readonly MerchantPlatform[], db: DataSource | EntityManager = this.db): Promise<number[]> {
    return aggregatePerPair(db, TEAM_MEMBER_COUNT, pairs.map((p) => [p.merchantId, p.platformId]));
  }


  /** Per-request batching: one statement per kind of read, however many entities a plan asks for. */
  createLoaders() {
    return {
      platform: new DataLoader((ids: readonly string[]) => this.byIds(PlatformEntity, ids)),
      merchant: new DataLoader((ids: readonly string[]) => this.byIds(MerchantEntity, ids)),
      store: new DataLoader((ids: readonly string[]) => this.byIds(StoreEntity, ids)),
      storeUser: new DataLoader((ids: readonly string[]) => this.byIds(StoreUserEntity, ids)),
      storesOfMerchant: new DataLoader((ids: readonly string[]) => this.storesOfMerchants(ids)),
      usersOfStore: new DataLoader((ids: readonly string[]) => this.usersOf('store_id', ids)),
      usersOfMerchant: new DataLoader((ids: readonly string[]) => this.usersOf('merchant_id', ids)),
      userStatsOfMerchant: new DataLoader((ids: readonly string[]) => this.userStatsOfMerchants(ids)),
      teamMembersOf: new DataLoader((pairs: readonly MerchantPlatform[]) => this.teamMembersOf(pairs), {
        cacheKeyFn: merchantPlatformKey,
      }),
    };
  }

  // Response tags (response-tags.ts): new rows change no cached answer (a merchant's stores are not tagged), but the
  // answer says what it changed, so the gateway need not clear its whole cache for a write that named nothing.
  async insertPlatform(values: { code: string; name: string }): Promise<PlatformEntity> {
    const repo = this.db.getRepository(PlatformEntity);
    const platform = await repo.save(repo.create(values));
    changedTags(tag.platform(platform.id));
    return platform;
  }

  async insertMerchant(values: { name: string; email: string }): Promise<MerchantEntity> {
    const repo = this.db.getRepository(MerchantEntity);
    const merchant = await repo.save(repo.create(values));
    changedTags(tag.merchant(merchant.id));
    return merchant;
  }

  async insertStore(values: { merchantId: string; platformId: string; code: string; name: string }): Promise<StoreEntity> {
    const repo = this.db.getRepository(StoreEntity);
    const store = await repo.save(repo.create(values));
    changedTags(tag.store(store.id), tag.merchant(store.merchantId));
    return store;
  }

  async setStoreActive(id: string, isActive: boolean): Promise<StoreEntity | null> {
    // a bare UPDATE … RETURNING comes back from TypeORM as [rows, count]; a CTE returns plain rows
    const rows: Array<{ id: string }> = await this.db.query(
      `WITH updated AS (UPDATE tenancy.stores SET is_active = $2 WHERE id = $1 RETURNING id) SELECT id FROM updated`,
      [id, isActive],
    );
    const store = rows.length ? await this.db.getRepository(StoreEntity).findOneBy({ id }) : null;
    if (store) changedTags(tag.store(store.id), tag.merchant(store.merchantId), tag.merchantPlatform(store));
    return store;
  }

  /**
   * Active MEMBERs of a merchant on a platform inside the caller's transaction (under its lock): teamMembersOf's
   * counter row, which store_users' triggers keep in the writing transaction (a deactivation racing this read only
   * lowers it once committed, so the check is never too lenient).
   */
  async countTeamMembers(manager: EntityManager, merchantId: string, platformId: string): Promise<number> {
    const [n] = await this.teamMembersOf([{ merchantId, platformId }], manager);
    return n;
  }

  /**
   * Inserts a team member within max_team_members (`limit`, null: unlimited) in one transaction: the merchant's lock
   * on the feature, the count of active members under it, the insert.
   */
  insertTeamMemberWithinLimit(limit: number | null, store: StoreEntity, values: { email: string; role: StoreUserRole }): Promise<StoreUserEntity> {
    return insertWithinLimit(this.db, {
      featureCode: TEAM_MEMBERS,
      pair: store,
      limit,
      measure: async (manager) => ({ used: await this.countTeamMembers(manager, store.merchantId, store.platformId) }),
      insert: (manager) => this.insertStoreUser(store, values, manager),
    });
  }

  insertStoreUser(store: StoreEntity, values: { email: string; role: StoreUserRole }, manager: EntityManager = this.db.manager): Promise<StoreUserEntity> {
    const repo = manager.getRepository(StoreUserEntity);
    return repo.save(
      repo.create({ ...values, storeId: store.id, merchantId: store.merchantId, platformId: store.platformId, deactivatedAt: null }),
    );
  }

  /** Deactivates once: a second call keeps the first deactivation time. */
  async deactivateStoreUser(id: string): Promise<StoreUserEntity | null> {
    await this.db.query(
      `UPDATE tenancy.store_users SET is_active = false, deactivated_at = coalesce(deactivated_at, now()) WHERE id = $1`,
      [id],
    );
    const user = await this.db.getRepository(StoreUserEntity).findOneBy({ id });
    // response tags: this answer names the pair; the counter's trigger NOTIFYs it on commit
    if (user) changedTags(tag.merchantPlatform(user));
    return user;
  }
}

export type TenancyLoaders = ReturnType<TenancyStore['createLoaders']>;
