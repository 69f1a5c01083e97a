import type { CapacityConfig, InfrastructureTier, ThresholdMetric } from './capacity-config';
import { THRESHOLD_METRICS } from './capacity-config';
import { CAPACITY_FEATURES, GiB, MiB, noCapacity, type PlatformFigures, type TierCount } from './figures';

export type HealthStatus = 'HEALTHY' | 'WARNING' | 'CRITICAL' | 'UNKNOWN';

/** The gateway's own figures from its /metrics: null where they cannot be read (no request yet, unreachable). */
export interface GatewayFigures {
  p95Ms: number | null;
  errorRatePercent: number | null;
}

export interface Threshold {
  metric: ThresholdMetric;
  current: number | null;
  warning: number;
  critical: number;
  status: HealthStatus;
}

export interface PlatformHealth {
  overallStatus: Exclude<HealthStatus, 'UNKNOWN'>;
  infrastructureTier: Omit<InfrastructureTier, 'trigger'>;
  nextTierTrigger: string | null;
  databaseSizeMb: number;
  imageStorage: { totalFiles: number; totalSizeGb: number };
  thresholds: Threshold[];
}

const round = (value: number, decimals: number) => Math.round(value * 10 ** decimals) / 10 ** decimals;
const SEVERITY: Record<HealthStatus, number> = { UNKNOWN: -1, HEALTHY: 0, WARNING: 1, CRITICAL: 2 };

/** Reaching a level counts: at the warning value the status is WARNING. */
export function statusOf(current: number | null, levels: { warning: number; critical: number }): HealthStatus {
  if (current === null) return 'UNKNOWN';
  if (current >= levels.critical) return 'CRITICAL';
  if (current >= levels.warning) return 'WARNING';
  return 'HEALTHY';
}

/** The worst status; UNKNOWN figures do not count, so an unreadable figure neither alarms nor reassures. */
export function worstStatus(statuses: readonly HealthStatus[]): Exclude<HealthStatus, 'UNKNOWN'> {
  return statuses.reduce<Exclude<HealthStatus, 'UNKNOWN'>>((worst, s) => (s !== 'UNKNOWN' && SEVERITY[s] > SEVERITY[worst] ? s : worst), 'HEALTHY');
}

/** The smallest tier that holds both the active stores and the products (the last tier holds everything). */
export function infrastructureTierIndex(tiers: readonly InfrastructureTier[], stores: number, products: number): number {
  const index = tiers.findIndex((t) => (t.maxStores === null || stores <= t.maxStores) && (t.maxProducts === null || products <= t.maxProducts));
  return index === -1 ? tiers.length - 1 : index;
}

/** What moves the platform from tier `index` to the next one; null on the last tier. */
export function nextTierTrigger(tiers: readonly InfrastructureTier[], index: number): string | null {
  const current = tiers[index];
  const next = tiers[index + 1];
  if (!next || current.maxStores === null || current.maxProducts === null) return null;
  const n = (value: number) => value.toLocaleString('en-US');
  return `${next.name} beyond ${n(current.maxStores)} active stores or ${n(current.maxProducts)} products (${next.trigger})`;
}

export function platformHealth(config: CapacityConfig, figures: PlatformFigures, databaseBytes: number, gateway: GatewayFigures): PlatformHealth {
  const storageGb = figures.mediaBytes / GiB;
  const current: Record<ThresholdMetric, number | null> = {
    products_total: figures.products,
    storage_gb: round(storageGb, 6),
    db_size_gb: round(databaseBytes / GiB, 6),
    api_p95_ms: gateway.p95Ms === null ? null : round(gateway.p95Ms, 2),
    error_rate_percent: gateway.errorRatePercent === null ? null : round(gateway.errorRatePercent, 3),
  };
  const thresholds = THRESHOLD_METRICS.map((metric) => {
    const levels = config.thresholds[metric];
    return { metric, current: current[metric], warning: levels.warning, critical: levels.critical, status: statusOf(current[metric], levels) };
  });
  const tiers = config.infrastructureTiers;
  const index = infrastructureTierIndex(tiers, figures.activeStores, figures.products);
  const { trigger: _trigger, ...tier } = tiers[index];
  return {
    overallStatus: worstStatus(thresholds.map((t) => t.status)),
    infrastructureTier: tier,
    nextTierTrigger: nextTierTrigger(tiers, index),
    databaseSizeMb: round(databaseBytes / MiB, 3),
    imageStorage: { totalFiles: figures.mediaFiles, totalSizeGb: round(storageGb, 6) },
    thresholds,
  };
}

export interface ResourceCapacity {
  actual: number;
  theoreticalLimit: number;
  unlimitedSubscriptions: number;
  utilizationPercent: number | null;
  headroom: number;
}

export interface SubscriptionCapacity {
  totalSubscriptions: number;
  tierDistribution: TierCount[];
  products: ResourceCapacity;
  ordersMonthly: ResourceCapacity;
  teamMembers: ResourceCapacity;
}

/**
 * Actual use against the sum of the live subscriptions' finite limits. Utilisation is null when that sum is 0
 * (nothing to divide by: every live plan unlimited, or none live), and headroom never goes below 0.
 */
export function resourceCapacity(actual: number, capacity = noCapacity): ResourceCapacity {
  const limit = Math.round(capacity.limitSum);
  return {
    actual,
    theoreticalLimit: limit,
    unlimitedSubscriptions: capacity.unlimitedSubscriptions,
    utilizationPercent: limit > 0 ? round((actual / limit) * 100, 2) : null,
    headroom: Math.max(0, limit - actual),
  };
}

export function subscriptionCapacity(figures: PlatformFigures): SubscriptionCapacity {
  const capacity = (code: string) => figures.featureCapacity[code];
  return {
    totalSubscriptions: Object.values(figures.subscriptionsByStatus).reduce((sum, n) => sum + n, 0),
    tierDistribution: figures.tierDistribution,
    products: resourceCapacity(figures.products, capacity(CAPACITY_FEATURES.products)),
    ordersMonthly: resourceCapacity(figures.ordersThisMonth, capacity(CAPACITY_FEATURES.ordersMonthly)),
    teamMembers: resourceCapacity(figures.teamMembers, capacity(CAPACITY_FEATURES.teamMembers)),
  };
}
