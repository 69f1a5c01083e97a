import type { Period } from '../subscriptions/periods';
import { utcDay } from './usage-rules';

const DAY_MS = 86_400_000;

export type Trend = 'INCREASING' | 'DECREASING' | 'STABLE';
export interface Alert {
  level: 'INFO' | 'WARNING' | 'CRITICAL';
  message: string;
  action: string | null;
}
export interface DailyPoint {
  date: string;
  quantity: number;
}
/** A public tier as a recommendation sees it: its allocation of the feature (null = unlimited). */
export interface TierOffer {
  code: string;
  name: string;
  priceMonthlyCents: number;
  allocation: number | null;
}

export interface InsightsInput {
  now: Date;
  period: Period;
  /** The effective limit; null = unlimited. */
  allocated: number | null;
  used: number;
  /** Events recorded in the period. */
  events: number;
  /** Usage per UTC day (any days; missing days are zero). */
  daily: Map<string, number>;
  /** Usage per UTC day of this period only. */
  periodDaily: Map<string, number>;
  unit: string | null;
  currentTierCode: string | null;
  /** Active public tiers. */
  tiers: TierOffer[];
}

export interface Insights {
  allocated: number | null;
  used: number;
  remaining: number | null;
  usagePercentage: number | null;
  periodStart: Date;
  periodEnd: Date;
  daysRemaining: number;
  avgDailyUsage: number;
  projectedPeriodUsage: number;
  trend: Trend;
  alerts: Alert[];
  recommendations: string[];
  daily: DailyPoint[];
}

const round2 = (n: number) => Math.round(n * 100) / 100;
const startOfDay = (d: Date) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));

/** The UTC days from `from` to `to`, both included. */
export function daysBetween(from: Date, to: Date): string[] {
  const days: string[] = [];
  for (let t = startOfDay(from).getTime(); t <= startOfDay(to).getTime(); t += DAY_MS) days.push(utcDay(new Date(t)));
  return days;
}

/** Average per day over the last 7 calendar days of the period up to today (fewer when the period is younger); zeros count. */
export function averageDaily(periodDaily: Map<string, number>, period: Period, now: Date): number {
  const weekAgo = new Date(now.getTime() - 6 * DAY_MS);
  const days = daysBetween(weekAgo > period.start ? weekAgo : period.start, now);
  return round2(days.reduce((sum, day) => sum + (periodDaily.get(day) ?? 0), 0) / days.length);
}

/** Least-squares slope per day of a series. */
export function slope(values: number[]): number {
  const n = values.length;
  if (n < 2) return 0;
  const meanX = (n - 1) / 2;
  const meanY = values.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  values.forEach((y, x) => {
    num += (x - meanX) * (y - meanY);
    den += (x - meanX) ** 2;
  });
  return num / den;
}

/** INCREASING / DECREASING when the 14-day slope changes usage by more than 10 % of the mean per week. */
export function trendOf(daily: Map<string, number>, now: Date): Trend {
  const values = daysBetween(new Date(now.getTime() - 13 * DAY_MS), now).map((day) => daily.get(day) ?? 0);
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  if (mean === 0) return 'STABLE';
  const weekly = slope(values) * 7;
  if (weekly > 0.1 * mean) return 'INCREASING';
  if (weekly < -0.1 * mean) return 'DECREASING';
  return 'STABLE';
}

/**
 * Everything UsageInsights shows, from the daily series, the allocation, the tier catalog and the clock.
 * Percentages are of the allocation; the projection runs the last week's average to the period's end.
 */
export function usageInsights(input: InsightsInput): Insights {
  const { now, period, allocated, used } = input;
  const unit = input.unit ?? 'units';
  const msLeft = Math.max(0, period.end.getTime() - now.getTime());
  const daysRemaining = Math.ceil(msLeft / DAY_MS);
  const avgDailyUsage = averageDaily(input.periodDaily, period, now);
  const projectedPeriodUsage = Math.round(used + avgDailyUsage * (msLeft / DAY_MS));
  const trend = trendOf(input.daily, now);
  const usagePercentage = allocated === null ? null : allocated === 0 ? (used > 0 ? 100 : 0) : round2((used / allocated) * 100);
  const remaining = allocated === null ? null : Math.max(0, allocated - used);

  const alerts: Alert[] = [];
  if (usagePercentage !== null) {
    const pct = `${usagePercentage.toFixed(1)} % of this period's ${unit} used`;
    if (usagePercentage >= 90) alerts.push({ level: 'CRITICAL', message: `Critical: ${pct}`, action: 'Upgrade now: usage past the allocation is refused' });
    else if (usagePercentage >= 75) alerts.push({ level: 'WARNING', message: `High usage: ${pct}`, action: 'Monitor usage closely' });
    else if (usagePercentage >= 50) alerts.push({ level: 'INFO', message: `Moderate usage: ${pct}`, action: 'Usage is on track' });
  }
  if (daysRemaining <= 3) {
    alerts.push({ level: 'INFO', message: `The period renews in ${daysRemaining} ${daysRemaining === 1 ? 'day' : 'days'}`, action: 'Ensure the payment method is up to date' });
  }
  const runOut = allocated !== null && used < allocated && avgDailyUsage > 0 ? new Date(now.getTime() + ((allocated - used) / avgDailyUsage) * DAY_MS) : null;
  if (runOut && projectedPeriodUsage > allocated! && runOut < period.end) {
    alerts.push({
      level: 'WARNING',
      message: `At the current rate the allocation runs out on ${utcDay(runOut)}, before the period ends on ${utcDay(period.end)}`,
      action: 'Upgrade, or reduce usage',
    });
  }

  const recommendations: string[] = [];
  if (allocated !== null && ((usagePercentage ?? 0) > 80 || projectedPeriodUsage > allocated * 0.9)) {
    const needed = Math.max(projectedPeriodUsage, used);
    const offer = input.tiers
      .filter((t) => t.code !== input.currentTierCode && (t.allocation === null || (t.allocation >= needed && t.allocation > allocated)))
      .sort((a, b) => a.priceMonthlyCents - b.priceMonthlyCents || a.code.localeCompare(b.code))[0];
    if (offer) {
      const size = offer.allocation === null ? `unlimited ${unit}` : `${offer.allocation.toLocaleString('en-US')} ${unit} per period`;
      recommendations.push(`Consider ${offer.name} (${size}): it covers the projected ${needed.toLocaleString('en-US')} ${unit}`);
    } else {
      recommendations.push(`No public plan covers the projected ${needed.toLocaleString('en-US')} ${unit}: contact us for a custom allocation`);
    }
  }
  if (trend === 'INCREASING') recommendations.push(`Usage is increasing: check which requests use the most ${unit}`);
  // a single event worth more than 1 % of the allocation: fewer than a hundred such events use it all
  if (allocated !== null && allocated > 0 && input.events > 0 && used / input.events > allocated / 100) {
    recommendations.push(`The average event uses ${Math.round(used / input.events).toLocaleString('en-US')} ${unit}, over 1 % of the allocation: consider smaller requests`);
  }

  const daily = daysBetween(period.start, now < period.end ? now : new Date(period.end.getTime() - 1)).map((date) => ({ date, quantity: input.periodDaily.get(date) ?? 0 }));
  return {
    allocated,
    used,
    remaining,
    usagePercentage,
    periodStart: period.start,
    periodEnd: period.end,
    daysRemaining,
    avgDailyUsage,
    projectedPeriodUsage,
    trend,
    alerts,
    recommendations,
    daily,
  };
}
