import type { CapacityConfig, ThresholdMetric } from './capacity-config';
import type { PlatformHealth, SubscriptionCapacity } from './health';
import { daysUntilThreshold, type CapacityMetric, type GrowthTrends, type SnapshotPoint } from './trends';

export type Severity = 'CRITICAL' | 'WARNING' | 'INFO';

export interface ScalingRecommendation {
  category: 'capacity' | 'infrastructure' | 'growth' | 'storage' | 'performance' | 'forecast';
  severity: Severity;
  title: string;
  description: string;
  action: string;
}

const ORDER: Record<Severity, number> = { CRITICAL: 0, WARNING: 1, INFO: 2 };

/** What each threshold is called and what to do about it (capacity-planning.md, Scaling triggers). */
const THRESHOLD_TEXT: Record<ThresholdMetric, { category: ScalingRecommendation['category']; name: string; unit: string; action: string }> = {
  products_total: { category: 'capacity', name: 'Product count', unit: ' products', action: 'Plan the next infrastructure tier: database indexes, partitioning and capacity' },
  storage_gb: { category: 'storage', name: 'Image storage', unit: ' GB', action: 'Plan for storage expansion or implement cleanup policies' },
  db_size_gb: { category: 'capacity', name: 'Database size', unit: ' GB', action: 'Review table sizes and indexes; plan partitioning or a larger database server' },
  api_p95_ms: { category: 'performance', name: 'API response time (p95)', unit: ' ms', action: 'Scale horizontally and look for slow resolvers or queries' },
  error_rate_percent: { category: 'performance', name: 'Server error rate', unit: ' %', action: 'Investigate and fix: the gateway logs carry the request ids' },
};

/** The thresholds a metric's forecast is held against: its warning level, or the current tier's store bound. */
function forecastTargets(config: CapacityConfig, health: PlatformHealth): Array<{ metric: CapacityMetric; threshold: number; what: string }> {
  const targets: Array<{ metric: CapacityMetric; threshold: number; what: string }> = [
    { metric: 'PRODUCTS', threshold: config.thresholds.products_total.warning, what: 'the products warning threshold' },
    { metric: 'STORAGE_GB', threshold: config.thresholds.storage_gb.warning, what: 'the storage warning threshold' },
  ];
  const maxStores = health.infrastructureTier.maxStores;
  if (maxStores !== null) targets.push({ metric: 'STORES', threshold: maxStores + 1, what: `the ${health.infrastructureTier.name} tier's ${maxStores} active stores` });
  return targets;
}

const METRIC_NAMES: Record<CapacityMetric, string> = {
  STORES: 'Active stores',
  PRODUCTS: 'Products',
  ORDERS: 'Orders this month',
  TEAM_MEMBERS: 'Team members',
  STORAGE_GB: 'Image storage (GB)',
};

const fmt = (value: number) => value.toLocaleString('en-US', { maximumFractionDigits: 1 });

/**
 * Recommendations from capacity, health and the trends of the forecast window, sorted critical → warning → info
 * (in the order found within a severity): the reference's four (product capacity, infrastructure tier, store
 * growth, storage), one per threshold in warning or critical, and a forecast for each metric that will cross its
 * warning threshold within the horizon at the current slope.
 */
export function scalingRecommendations(input: {
  config: CapacityConfig;
  capacity: SubscriptionCapacity;
  health: PlatformHealth;
  trends: GrowthTrends;
  /** The snapshots of the forecast window (the same as the trends'). */
  window: readonly SnapshotPoint[];
}): ScalingRecommendation[] {
  const { config, capacity, health, trends, window } = input;
  const rules = config.recommendations;
  const found: ScalingRecommendation[] = [];

  const products = capacity.products.utilizationPercent;
  if (products !== null && products > rules.productCapacityPercent) {
    found.push({
      category: 'capacity',
      severity: 'WARNING',
      title: 'Product capacity approaching limit',
      description: `Currently at ${Math.round(products)}% of theoretical product capacity (${fmt(capacity.products.actual)} of ${fmt(capacity.products.theoreticalLimit)})`,
      action: 'Consider upgrading store tiers or adding capacity',
    });
  }

  for (const threshold of health.thresholds) {
    if (threshold.status !== 'WARNING' && threshold.status !== 'CRITICAL') continue;
    const text = THRESHOLD_TEXT[threshold.metric];
    const level = threshold.status === 'CRITICAL' ? threshold.critical : threshold.warning;
    found.push({
      category: text.category,
      severity: threshold.status,
      title: threshold.metric === 'storage_gb' ? 'Storage usage high' : `${text.name} ${threshold.status === 'CRITICAL' ? 'critical' : 'high'}`,
      description: `${text.name} at ${fmt(threshold.current!)}${text.unit}, at or above the ${threshold.status.toLowerCase()} level of ${fmt(level)}${text.unit}`,
      action: text.action,
    });
  }

  if (health.nextTierTrigger) {
    found.push({
      category: 'infrastructure',
      severity: 'INFO',
      title: `Current tier: ${health.infrastructureTier.name}`,
      description: `Next upgrade trigger: ${health.nextTierTrigger}`,
      action: 'Monitor growth and plan for infrastructure scaling',
    });
  }

  const stores = trends.trends.find((t) => t.metric === 'STORES');
  if (stores && stores.growthRatePercent !== null && stores.growthRatePercent > rules.storeGrowthPercent) {
    found.push({
      category: 'growth',
      severity: 'INFO',
      title: 'High store growth rate',
      description: `Store base growing at ${stores.growthRatePercent.toFixed(1)}% over the last ${trends.periodDays} days`,
      action: 'Ensure infrastructure can scale to meet demand',
    });
  }

  for (const target of forecastTargets(config, health)) {
    const days = daysUntilThreshold(window, target.metric, target.threshold);
    if (days === null || days === 0 || days > rules.forecastHorizonDays) continue;
    found.push({
      category: 'forecast',
      severity: 'WARNING',
      title: `${METRIC_NAMES[target.metric]} will reach ${target.what} in ${days} day${days === 1 ? '' : 's'}`,
      description: `At the current slope (least squares over the last ${config.forecastWindowDays} days) ${METRIC_NAMES[target.metric].toLowerCase()} reach ${fmt(target.threshold)} in ${days} days`,
      action: target.metric === 'STORES' ? 'Prepare the move to the next infrastructure tier now' : 'Act before the threshold is reached: see the matching threshold action',
    });
  }

  return found.map((r, i) => ({ r, i })).sort((a, b) => ORDER[a.r.severity] - ORDER[b.r.severity] || a.i - b.i).map(({ r }) => r);
}
