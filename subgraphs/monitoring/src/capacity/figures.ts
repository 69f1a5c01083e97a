import type { SubscriptionStatus } from '@tiergraph/runtime';

/** The feature codes whose theoretical limits capacity compares against (contract/types.graphql). */
export const CAPACITY_FEATURES = { products: 'max_products', ordersMonthly: 'max_orders_per_month', teamMembers: 'max_team_members' } as const;

export interface TierCount {
  tierCode: string;
  count: number;
}

export interface FeatureCapacity {
  limitSum: number;
  limitedSubscriptions: number;
  unlimitedSubscriptions: number;
}

/** The platform's figures as the owners contributed them to PlatformMetrics. */
export interface PlatformFigures {
  totalStores: number;
  activeStores: number;
  teamMembers: number;
  products: number;
  ordersThisMonth: number;
  mediaFiles: number;
  mediaBytes: number;
  subscriptionsByStatus: Record<SubscriptionStatus, number>;
  /** Live subscriptions per tier. */
  tierDistribution: TierCount[];
  /** By feature code. */
  featureCapacity: Record<string, FeatureCapacity>;
}

/** Live: the statuses that grant the plan (billing's ACTIVE_STATUSES). */
const LIVE: readonly SubscriptionStatus[] = ['TRIAL', 'ACTIVE', 'PAST_DUE'];

export const GiB = 2 ** 30;
export const MiB = 2 ** 20;

const round3 = (value: number) => Math.round(value * 1000) / 1000;

export const noCapacity: FeatureCapacity = { limitSum: 0, limitedSubscriptions: 0, unlimitedSubscriptions: 0 };

/** What a snapshot stores of the figures and the database size. */
export interface SnapshotValues {
  totalStores: number;
  activeStores: number;
  trialStores: number;
  totalSubscriptions: number;
  activeSubscriptions: number;
  totalProducts: number;
  totalOrdersMonth: number;
  totalTeamMembers: number;
  totalMediaFiles: number;
  storageUsedGb: number;
  dbSizeMb: number;
  theoreticalProductsLimit: number;
  theoreticalOrdersLimit: number;
  theoreticalTeamLimit: number;
  tierDistribution: TierCount[];
}

export function snapshotValuesOf(figures: PlatformFigures, databaseBytes: number): SnapshotValues {
  const byStatus = figures.subscriptionsByStatus;
  const limit = (code: string) => Math.round(figures.featureCapacity[code]?.limitSum ?? 0);
  return {
    totalStores: figures.totalStores,
    activeStores: figures.activeStores,
    trialStores: byStatus.TRIAL,
    totalSubscriptions: Object.values(byStatus).reduce((sum, n) => sum + n, 0),
    activeSubscriptions: LIVE.reduce((sum, status) => sum + byStatus[status], 0),
    totalProducts: figures.products,
    totalOrdersMonth: figures.ordersThisMonth,
    totalTeamMembers: figures.teamMembers,
    totalMediaFiles: figures.mediaFiles,
    storageUsedGb: round3(figures.mediaBytes / GiB),
    dbSizeMb: round3(databaseBytes / MiB),
    theoreticalProductsLimit: limit(CAPACITY_FEATURES.products),
    theoreticalOrdersLimit: limit(CAPACITY_FEATURES.ordersMonthly),
    theoreticalTeamLimit: limit(CAPACITY_FEATURES.teamMembers),
    tierDistribution: figures.tierDistribution,
  };
}

/** Start of the UTC month of an instant: "orders this month". */
export function startOfUtcMonth(at: Date): Date {
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1));
}
