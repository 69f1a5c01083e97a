import {
  assertCanReadMerchant,
  assertCanReadStore,
  canManageStore,
  canReadStore,
  ForbiddenError,
  isUuid,
  NotFoundError,
  requireAdmin,
  rethrowUniqueViolation,
  type Caller,
  type EntitlementSource,
  type FeatureUsage,
  type MerchantPlatform,
  requireAdminOrService,
} from '@tiergraph/runtime';
import { limitForCreating } from '@tiergraph/plans';
import { TEAM_MEMBERS } from '../features';
import type { MerchantEntity, PlatformEntity, StoreEntity, StoreUserEntity } from '../store/entities';
import type { TenancyLoaders, TenancyStore, UserStatsRow } from '../store/tenancy-store';
import { addStoreUserInput, createMerchantInput, createPlatformInput, createStoreInput, parseInput } from './validation';

const UNIQUE_FIELDS: Record<string, [string, string]> = {
  platforms_code_key: ['code', 'a platform with this code already exists'],
  merchants_email_key: ['email', 'a merchant with this email already exists'],
  stores_platform_code_key: ['code', 'a store with this code already exists on this platform'],
  store_users_store_email_key: ['email', 'this email is already a user of the store'],
};

export interface TenancyServiceDependencies {
  store: TenancyStore;
  loaders: TenancyLoaders;
  /** Effective limits (billing), cached and invalidated on change. */
  entitlements: EntitlementSource;
}

/** Tenancy's rules for one request: who may read and change what, and what valid input is. */
export class TenancyService {
  private readonly store: TenancyStore;
  private readonly loaders: TenancyLoaders;

  constructor(
    private readonly deps: TenancyServiceDependencies,
    private readonly caller: Caller,
  ) {
    this.store = deps.store;
    this.loaders = deps.loaders;
  }

  // ───────────── reads ─────────────

  platforms(): Promise<PlatformEntity[]> {
    return this.store.allPlatforms();
  }

  async platform(id: string): Promise<PlatformEntity> {
    const platform = isUuid(id) ? await this.loaders.platform.load(id) : null;
    if (!platform) throw new NotFoundError('Platform', id);
    return platform;
  }

  async merchant(id: string): Promise<MerchantEntity> {
    const merchant = isUuid(id) ? await this.loaders.merchant.load(id) : null;
    if (!merchant) throw new NotFoundError('Merchant', id);
    assertCanReadMerchant(this.caller, merchant.id);
    return merchant;
  }

  /** Admin tooling (and the demo seeder) find a merchant by the key people know it by. */
  async merchantByEmail(email: string): Promise<MerchantEntity | null> {
    requireAdminOrService(this.caller, 'looking merchants up by email needs the admin or service role');
    const parsed = parseInput(createMerchantInput.pick({ email: true }), { email });
    return this.store.merchantByEmail(parsed.email);
  }

  async storeById(id: string): Promise<StoreEntity> {
    const store = isUuid(id) ? await this.loaders.store.load(id) : null;
    if (!store) throw new NotFoundError('Store', id);
    assertCanReadStore(this.caller, store);
    return store;
  }

  async storesOf(merchant: MerchantEntity): Promise<StoreEntity[]> {
    const stores = await this.loaders.storesOfMerchant.load(merchant.id);
    return stores.filter((s) => canReadStore(this.caller, s));
  }

  private assertCanSeeTeam(merchantId: string): void {
    assertCanReadMerchant(this.caller, merchantId);
    if (this.caller.role === 'store') throw new ForbiddenError("a store user cannot list the merchant's users");
  }

  usersOfMerchant(merchant: MerchantEntity): Promise<StoreUserEntity[]> {
    this.assertCanSeeTeam(merchant.id);
    return this.loaders.usersOfMerchant.load(merchant.id);
  }

  userStatsOf(merchant: MerchantEntity): Promise<UserStatsRow> {
    this.assertCanSeeTeam(merchant.id);
    return this.loaders.userStatsOfMerchant.load(merchant.id);
  }

  usersOfStore(store: StoreEntity): Promise<StoreUserEntity[]> {
    assertCanReadStore(this.caller, store);
    return this.loaders.usersOfStore.load(store.id);
  }

  /** Parents reached from an entity the caller may already see. */
  async merchantOf(store: StoreEntity): Promise<MerchantEntity> {
    const merchant = await this.loaders.merchant.load(store.merchantId);
    if (!merchant) throw new NotFoundError('Merchant', store.merchantId);
    return merchant;
  }

  async platformOf(store: StoreEntity): Promise<PlatformEntity> {
    return this.platform(store.platformId);
  }

  async storeOf(user: StoreUserEntity): Promise<StoreEntity> {
    const store = await this.loaders.store.load(user.storeId);
    if (!store) throw new NotFoundError('Store', user.storeId);
    assertCanReadStore(this.caller, store);
    return store;
  }

  // ───────────── mutations ─────────────

  async createPlatform(input: unknown): Promise<PlatformEntity> {
    requireAdmin(this.caller);
    const values = parseInput(createPlatformInput, input);
    return this.store.insertPlatform(values).catch((e) => rethrowUniqueViolation(e, UNIQUE_FIELDS));
  }

  async createMerchant(input: unknown): Promise<MerchantEntity> {
    requireAdmin(this.caller);
    const values = parseInput(createMerchantInput, input);
    return this.store.insertMerchant(values).catch((e) => rethrowUniqueViolation(e, UNIQUE_FIELDS));
  }

  async createStore(input: unknown): Promise<StoreEntity> {
    requireAdmin(this.caller);
    const values = parseInput(createStoreInput, input);
    const [merchant, platform] = await Promise.all([
      isUuid(values.merchantId) ? this.loaders.merchant.load(values.merchantId) : null,
      isUuid(values.platformId) ? this.loaders.platform.load(values.platformId) : null,
    ]);
    if (!merchant) throw new NotFoundError('Merchant', values.merchantId);
    if (!platform) throw new NotFoundError('Platform', values.platformId);
    return this.store.insertStore(values).catch((e) => rethrowUniqueViolation(e, UNIQUE_FIELDS));
  }

  async setStoreActive(id: string, isActive: boolean): Promise<StoreEntity> {
    requireAdmin(this.caller);
    const store = isUuid(id) ? await this.store.setStoreActive(id, isActive) : null;
    if (!store) throw new NotFoundError('Store', id);
    return store;
  }

  async addStoreUser(input: unknown): Promise<StoreUserEntity> {
    const store = await this.manageableStore(String((input as { storeId?: unknown })?.storeId ?? ''));
    const values = parseInput(addStoreUserInput, input);
    const user = { email: values.email, role: values.role };
    // owners are not counted; team members within max_team_members (billing's limit: fails closed)
    const inserted =
      values.role === 'OWNER'
        ? this.store.insertStoreUser(store, user)
        : limitForCreating(this.deps.entitlements, TEAM_MEMBERS, store).then(({ limit }) => this.store.insertTeamMemberWithinLimit(limit, store, user));
    return inserted.catch((e) => rethrowUniqueViolation(e, UNIQUE_FIELDS));
  }

  /** Tenancy's usage contribution: active MEMBERs across the merchant's stores on the platform. */
  async usageOf(pair: MerchantPlatform): Promise<FeatureUsage[]> {
    assertCanReadMerchant(this.caller, pair.merchantId);
    if (!isUuid(pair.merchantId) || !isUuid(pair.platformId)) throw new NotFoundError('MerchantSubscription', `${pair.merchantId}:${pair.platformId}`);
    return [{ code: TEAM_MEMBERS, current: await this.loaders.teamMembersOf.load(pair) }];
  }

  async deactivateStoreUser(id: string): Promise<StoreUserEntity> {
    const user = isUuid(id) ? await this.loaders.storeUser.load(id) : null;
    if (!user) throw new NotFoundError('StoreUser', id);
    await this.manageableStore(user.storeId);
    const updated = await this.store.deactivateStoreUser(id);
    if (!updated) throw new NotFoundError('StoreUser', id);
    return updated;
  }

  /** The store, when it exists and the caller may manage its team (admin or the owning merchant). */
  private async manageableStore(storeId: string): Promise<StoreEntity> {
    const store = isUuid(storeId) ? await this.loaders.store.load(storeId) : null;
    if (!store) throw new NotFoundError('Store', storeId);
    if (!canManageStore(this.caller, store)) throw new ForbiddenError("only an admin or the store's merchant may manage its users");
    return store;
  }

  // ───────────── federation references: the same rules as the root fields ─────────────

  referencedMerchant(id: string): Promise<MerchantEntity> {
    return this.merchant(id);
  }

  referencedStore(id: string): Promise<StoreEntity> {
    return this.storeById(id);
  }

  referencedPlatform(id: string): Promise<PlatformEntity> {
    return this.platform(id);
  }
}
