import { z } from 'zod';
import { BadUserInputError, isUuid, NotFoundError, parseInput, requireAdmin, requireAdminOrService, PLATFORM_METRICS_ID, platformMetricsReference, type Caller, type Logger, type PlatformMetricsReference } from '@tiergraph/runtime';
import type { CapacityConfig } from '../capacity/capacity-config';
import { snapshotValuesOf, startOfUtcMonth, type PlatformFigures } from '../capacity/figures';
import { platformHealth, subscriptionCapacity, type GatewayFigures, type PlatformHealth, type SubscriptionCapacity } from '../capacity/health';
import { scalingRecommendations, type ScalingRecommendation } from '../capacity/recommendations';
import { daysUntilThreshold, growthTrends, utcDay, windowStart, type CapacityMetric, type GrowthTrends, type SnapshotPoint } from '../capacity/trends';
import type { GatewayFiguresSource } from '../clients/gateway-metrics-client';
import type { PlatformFiguresSource } from '../clients/platform-figures-client';
import type { CapacitySnapshotEntity } from '../store/entities';
import type { HistoricalSnapshot, MonitoringLoaders, MonitoringStore } from '../store/monitoring-store';

/** What every request shares: built once per process by the composition root. */
export interface MonitoringShared {
  store: MonitoringStore;
  figures: PlatformFiguresSource;
  gateway: GatewayFiguresSource;
  config: CapacityConfig;
  clock: () => Date;
  logger: Logger;
}

const MAX_TREND_DAYS = 365;
const MAX_IMPORTED_DAYS = 3660;

const count = z.number().int().min(0, 'must not be negative').nullish();
const size = z.number().min(0, 'must not be negative').finite().nullish();
const day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a YYYY-MM-DD day')
  .refine((d) => new Date(`${d}T00:00:00Z`).toISOString().startsWith(d), 'must be a real calendar day');
const snapshotInput = z.object({
  snapshotDate: day,
  ...Object.fromEntries(
    ['totalStores', 'activeStores', 'trialStores', 'totalSubscriptions', 'activeSubscriptions', 'totalProducts', 'totalOrdersMonth', 'totalTeamMembers',
      'totalMediaFiles', 'theoreticalProductsLimit', 'theoreticalOrdersLimit', 'theoreticalTeamLimit'].map((f) => [f, count]),
  ),
  storageUsedGb: size,
  dbSizeMb: size,
  tierDistribution: z.array(z.object({ tierCode: z.string().min(1, 'must not be empty').max(64), count: z.number().int().min(0, 'must not be negative') })).max(100).nullish(),
});
const importInput = z.array(snapshotInput).min(1, 'must hold at least one day').max(MAX_IMPORTED_DAYS, `must hold at most ${MAX_IMPORTED_DAYS} days`);

/** A snapshot as the trend maths sees it. */
export function pointOf(snapshot: CapacitySnapshotEntity): SnapshotPoint {
  return {
    date: snapshot.snapshotDate,
    values: {
      STORES: snapshot.activeStores,
      PRODUCTS: snapshot.totalProducts,
      ORDERS: snapshot.totalOrdersMonth,
      TEAM_MEMBERS: snapshot.totalTeamMembers,
      STORAGE_GB: Number(snapshot.storageUsedGb),
    },
  };
}

/**
 * Monitoring's rules for one request: platform-wide figures are for admins and services only. The current figures,
 * the database size, the gateway's metrics and each window of snapshots are read at most once per request, however
 * many fields need them.
 */
export class MonitoringService {
  private current?: Promise<{ figures: PlatformFigures; databaseBytes: number }>;
  private gatewayFigures?: Promise<GatewayFigures>;
  private readonly windows = new Map<number, Promise<SnapshotPoint[]>>();

  constructor(
    private readonly shared: MonitoringShared,
    private readonly loaders: MonitoringLoaders,
    private readonly caller: Caller,
  ) {}

  /** Checked before any lookup, so a tenant learns nothing, not even whether a snapshot exists. */
  private assertCanReadCapacity(): void {
    requireAdminOrService(this.caller, 'capacity figures are for admins and services only');
  }

  private now(): Date {
    return this.shared.clock();
  }

  private currentFigures() {
    this.current ??= (async () => {
      const [figures, databaseBytes] = await Promise.all([this.shared.figures.figures(startOfUtcMonth(this.now())), this.shared.store.databaseBytes()]);
      return { figures, databaseBytes };
    })();
    return this.current;
  }

  private gateway(): Promise<GatewayFigures> {
    return (this.gatewayFigures ??= this.shared.gateway.figures());
  }

  /** The snapshots of the last `days` UTC days, today included: read once per request and window (trends and the forecast share one). */
  private window(days: number): Promise<SnapshotPoint[]> {
    let read = this.windows.get(days);
    if (!read) {
      const now = this.now();
      read = this.shared.store.snapshotsBetween(windowStart(now, days), utcDay(now)).then((rows) => rows.map(pointOf));
      this.windows.set(days, read);
    }
    return read;
  }

  platformMetrics(): PlatformMetricsReference {
    return platformMetricsReference(this.caller, PLATFORM_METRICS_ID);
  }

  async capacitySnapshot(id: string): Promise<CapacitySnapshotEntity> {
    this.assertCanReadCapacity();
    const snapshot = isUuid(id) ? await this.loaders.capacitySnapshot.load(id) : null;
    if (!snapshot) throw new NotFoundError('CapacitySnapshot', id);
    return snapshot;
  }

  /**
   * Today's (UTC) snapshot, once: when the day has one it is answered without gathering anything; otherwise the
   * figures are gathered through the graph and inserted unless a concurrent capture got there first, in which
   * case its snapshot is the answer (the unique day decides). A failure to gather writes nothing.
   */
  async captureSnapshot(): Promise<CapacitySnapshotEntity> {
    this.assertCanReadCapacity();
    const started = process.hrtime.bigint();
    const day = utcDay(this.now());
    const existing = await this.shared.store.snapshotOfDay(day);
    if (existing) return existing;
    const { figures, databaseBytes } = await this.currentFigures();
    const { snapshot, created } = await this.shared.store.captureOnce(day, snapshotValuesOf(figures, databaseBytes));
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    this.shared.logger.info({ day, created, ms: Math.round(ms) }, created ? 'capacity snapshot captured' : 'capacity snapshot of the day already taken');
    return snapshot;
  }

  /** Past days' snapshots from elsewhere; validated as a whole before anything is written. */
  async importSnapshots(input: unknown[]): Promise<{ imported: number; kept: number }> {
    requireAdmin(this.caller);
    const snapshots = parseInput(z.object({ snapshots: importInput }), { snapshots: input }).snapshots;
    const today = utcDay(this.now());
    const seen = new Set<string>();
    for (const [i, s] of snapshots.entries()) {
      if (s.snapshotDate >= today) throw new BadUserInputError(`snapshots.${i}.snapshotDate must be before today (${today}); today's snapshot is captured`, `snapshots.${i}.snapshotDate`);
      if (seen.has(s.snapshotDate)) throw new BadUserInputError(`snapshots.${i}.snapshotDate repeats ${s.snapshotDate}`, `snapshots.${i}.snapshotDate`);
      seen.add(s.snapshotDate);
    }
    const defined = snapshots.map((s) => Object.fromEntries(Object.entries(s).filter(([, v]) => v !== null && v !== undefined)) as HistoricalSnapshot);
    const { written, kept } = await this.shared.store.importSnapshots(defined);
    this.shared.logger.info({ imported: written, kept }, 'capacity snapshots imported');
    return { imported: written, kept };
  }

  async platformHealth(): Promise<PlatformHealth> {
    this.assertCanReadCapacity();
    const [{ figures, databaseBytes }, gateway] = await Promise.all([this.currentFigures(), this.gateway()]);
    return platformHealth(this.shared.config, figures, databaseBytes, gateway);
  }

  async subscriptionCapacity(): Promise<SubscriptionCapacity> {
    this.assertCanReadCapacity();
    return subscriptionCapacity((await this.currentFigures()).figures);
  }

  async growthTrends(days: number): Promise<GrowthTrends> {
    this.assertCanReadCapacity();
    if (!Number.isInteger(days) || days < 1 || days > MAX_TREND_DAYS) throw new BadUserInputError(`days must be 1 to ${MAX_TREND_DAYS}`, 'days');
    return growthTrends(await this.window(days), days);
  }

  async daysUntilThreshold(metric: CapacityMetric, threshold: number): Promise<number | null> {
    this.assertCanReadCapacity();
    if (threshold < 0) throw new BadUserInputError('threshold must be 0 or more', 'threshold');
    return daysUntilThreshold(await this.window(this.shared.config.forecastWindowDays), metric, threshold);
  }

  async scalingRecommendations(): Promise<ScalingRecommendation[]> {
    this.assertCanReadCapacity();
    const days = this.shared.config.forecastWindowDays;
    const [health, capacity, window] = await Promise.all([this.platformHealth(), this.subscriptionCapacity(), this.window(days)]);
    return scalingRecommendations({ config: this.shared.config, capacity, health, trends: growthTrends(window, days), window });
  }

  // ───────────── federation references: the same rules as any read ─────────────

  referencedCapacitySnapshot(id: string): Promise<CapacitySnapshotEntity> {
    return this.capacitySnapshot(id);
  }

  referencedPlatformMetrics(id: string): PlatformMetricsReference {
    return platformMetricsReference(this.caller, id);
  }
}
