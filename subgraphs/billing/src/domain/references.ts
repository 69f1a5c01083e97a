import type { FeatureUsage } from '@tiergraph/runtime';
import type { MerchantSubscriptionEntity } from '../store/entities';

/** The usage the owners contributed, as @requires hands it to billing's resolvers. */
export interface ContributedUsage {
  catalogUsage?: FeatureUsage[];
  ordersUsage?: FeatureUsage[];
  tenancyUsage?: FeatureUsage[];
  mediaUsage?: FeatureUsage[];
}

export const contributedUsage = (from: ContributedUsage): ContributedUsage => ({
  catalogUsage: from.catalogUsage,
  ordersUsage: from.ordersUsage,
  tenancyUsage: from.tenancyUsage,
  mediaUsage: from.mediaUsage,
});

/** A subscription row, with the usage of the owners when the plan fetched it for `features`. */
export type SubscriptionParent = MerchantSubscriptionEntity & ContributedUsage;

/** A Store as billing sees it: tenancy's key and ids, and the contributed usage. */
export interface StoreParent extends ContributedUsage {
  id: string;
  merchantId: string;
  platformId: string;
}

export interface MerchantParent {
  id: string;
}
