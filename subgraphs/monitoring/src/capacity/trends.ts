/**
 * Growth trends and days until a threshold, as pure functions of the snapshots (and the clock's day).
 *
 * Why not the reference's arithmetic (capacity_forecast_service.py): it compares the first and the last snapshot
 * only, so one unusual day at either end decides the trend and every snapshot in between is ignored; and it
 * works in percent of the start value, which forces special cases when the start is 0 (growth "100 %", a daily
 * rate of 0, so a metric that starts from nothing never gets a projection or a days-until answer). Here every
 * snapshot in the window counts: an ordinary least-squares line through (day, value), with x measured in
 * calendar days, so a gap of missing days weighs as the time it is. The slope is in the metric's own units per
 * day, so growth from 0 is just a positive slope: projections and days-until need no special case, and the only
 * percentage (growth over the window relative to the fitted start) is null where it has no meaning.
 */

export const CAPACITY_METRICS = ['STORES', 'PRODUCTS', 'ORDERS', 'TEAM_MEMBERS', 'STORAGE_GB'] as const;
export type CapacityMetric = (typeof CAPACITY_METRICS)[number];

/** One snapshot as the trend maths sees it: its UTC day and a value per metric. */
export interface SnapshotPoint {
  /** YYYY-MM-DD */
  date: string;
  values: Record<CapacityMetric, number>;
}

export interface GrowthTrend {
  metric: CapacityMetric;
  startValue: number;
  currentValue: number;
  change: number;
  growthRatePercent: number | null;
  dailyGrowthRate: number;
  monthlyProjection: number;
}

export interface GrowthTrends {
  periodDays: number;
  snapshotsAvailable: number;
  startDate: string | null;
  endDate: string | null;
  message: string | null;
  trends: GrowthTrend[];
}

const DAY_MS = 86_400_000;
const PROJECTION_DAYS = 30;

/** Whole days since 1970-01-01 of a YYYY-MM-DD date. */
function dayNumber(date: string): number {
  return Math.round(Date.parse(`${date}T00:00:00Z`) / DAY_MS);
}

/** The UTC day of an instant, YYYY-MM-DD. */
export function utcDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/** The first day of a window of `days` UTC days that ends today (today included). */
export function windowStart(today: Date, days: number): string {
  return new Date((dayNumber(utcDay(today)) - days + 1) * DAY_MS).toISOString().slice(0, 10);
}

const round = (value: number, decimals: number) => {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor + 0; // + 0: no -0
};

export interface Line {
  /** Units per day. */
  slope: number;
  /** The fitted value at x = 0 (the first point's day). */
  intercept: number;
}

/**
 * The ordinary least-squares line through the points; null for fewer than two distinct x (no slope exists).
 * x is in days from the first point.
 */
export function leastSquares(points: ReadonlyArray<{ x: number; y: number }>): Line | null {
  const n = points.length;
  if (n < 2) return null;
  const meanX = points.reduce((sum, p) => sum + p.x, 0) / n;
  const meanY = points.reduce((sum, p) => sum + p.y, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (const p of points) {
    sxx += (p.x - meanX) ** 2;
    sxy += (p.x - meanX) * (p.y - meanY);
  }
  if (sxx === 0) return null;
  const slope = sxy / sxx;
  return { slope, intercept: meanY - slope * meanX };
}

/** The points of one metric, in date order, x in days from the first snapshot. */
function seriesOf(snapshots: readonly SnapshotPoint[], metric: CapacityMetric): Array<{ x: number; y: number }> {
  const first = dayNumber(snapshots[0].date);
  return snapshots.map((s) => ({ x: dayNumber(s.date) - first, y: s.values[metric] }));
}

function sortedByDate(snapshots: readonly SnapshotPoint[]): SnapshotPoint[] {
  return [...snapshots].sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
}

/** One metric's trend over snapshots already in date order (at least two). */
export function trendOf(snapshots: readonly SnapshotPoint[], metric: CapacityMetric): GrowthTrend {
  const points = seriesOf(snapshots, metric);
  const line = leastSquares(points)!;
  const start = points[0].y;
  const current = points[points.length - 1].y;
  const span = points[points.length - 1].x;
  return {
    metric,
    startValue: start,
    currentValue: current,
    change: round(current - start, 6),
    growthRatePercent: line.intercept > 0 ? round(((line.slope * span) / line.intercept) * 100, 2) : null,
    dailyGrowthRate: round(line.slope, 4),
    monthlyProjection: round(Math.max(0, current + line.slope * PROJECTION_DAYS), 2),
  };
}

/**
 * Growth over the snapshots of the window (the caller selects them: the last `days` UTC days). Fewer than two
 * snapshots: no trends and a message saying why.
 */
export function growthTrends(snapshots: readonly SnapshotPoint[], days: number): GrowthTrends {
  const sorted = sortedByDate(snapshots);
  const first = sorted[0];
  const last = sorted[sorted.length - 1];
  if (sorted.length < 2) {
    return {
      periodDays: days,
      snapshotsAvailable: sorted.length,
      startDate: first?.date ?? null,
      endDate: last?.date ?? null,
      message: `Insufficient data for trend analysis: ${sorted.length} snapshot${sorted.length === 1 ? '' : 's'} in the last ${days} days, at least 2 are needed`,
      trends: [],
    };
  }
  return {
    periodDays: dayNumber(last.date) - dayNumber(first.date),
    snapshotsAvailable: sorted.length,
    startDate: first.date,
    endDate: last.date,
    message: null,
    trends: CAPACITY_METRICS.map((metric) => trendOf(sorted, metric)),
  };
}

/**
 * Whole days until `metric` reaches `threshold` from its latest value at the least-squares slope of the
 * snapshots: 0 when the latest value already reaches it; null when no slope can be fitted (fewer than two
 * snapshots) or the metric is flat or shrinking (it never gets there at this rate).
 */
export function daysUntilThreshold(snapshots: readonly SnapshotPoint[], metric: CapacityMetric, threshold: number): number | null {
  if (!snapshots.length) return null;
  const sorted = sortedByDate(snapshots);
  const points = seriesOf(sorted, metric);
  const current = points[points.length - 1].y;
  if (current >= threshold) return 0;
  const line = leastSquares(points);
  if (!line || line.slope <= 1e-12) return null;
  // a tolerance for floating point: 50 / (10 + 1e-15) is 5 days, not 6
  return Math.ceil((threshold - current) / line.slope - 1e-9);
}
