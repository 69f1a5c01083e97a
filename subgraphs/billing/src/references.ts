import type { MerchantPlatform } from '@tiergraph/runtime';
import type { MerchantSubscriptionEntity } from './database/entities';
import type { ContributedUsage } from './entitlements/contributions';

/** The parents billing's resolvers receive (codegen's mappers). */

/** A subscription row, with the usage of the owners when the plan fetched it for `features`. */
export type SubscriptionParent = MerchantSubscriptionEntity & ContributedUsage;

/** A Store as billing sees it: tenancy's key and ids, and the contributed usage. */
export interface StoreParent extends ContributedUsage, MerchantPlatform {
  id: string;
}

export interface MerchantParent {
  id: string;
}
