import type { MerchantPlatform } from './keys';

/** A feature as its owner declares it; billing learns these through the graph and names none itself. */
export interface FeatureDeclaration {
  code: string;
  name: string;
  description: string;
  category: string;
  featureType: 'BINARY' | 'QUANTITATIVE';
  scope: 'STORE' | 'MERCHANT';
  /** What a quantitative feature counts, e.g. "products"; null for binary features. */
  unit: string | null;
  displayOrder: number;
  /**
   * Who counts a quantitative feature: COMPUTED (default) by its owner from its own rows, contributed through the
   * fan-out; METERED by billing from the usage events the owner records (recordUsage).
   */
  measurement?: 'COMPUTED' | 'METERED';
}

/** One owner's count for one quantitative feature. */
export interface FeatureUsage {
  code: string;
  current: number;
}

/** A Store as another subgraph refers to it (tenancy owns it): the key, and the fields a plan fetched for @requires. */
export interface StoreReference {
  id: string;
  merchantId?: string;
  platformId?: string;
}

/** A MerchantSubscription by its second key, as usage contributors see it. */
export interface MerchantPlatformReference extends MerchantPlatform {
  currentPeriodStart?: string | Date;
  currentPeriodEnd?: string | Date;
}
