/** Billing periods and proration arithmetic; pure functions over unix seconds. */

export type Interval = 'day' | 'week' | 'month' | 'year';

export const DAY = 86_400;

/**
 * The end of period number `periods` counted from `anchor` (unix seconds), by calendar in UTC as Stripe does:
 * a month from Jan 31 is Feb 28 (or 29), and the following one is Mar 31 again (counted from the anchor, not chained).
 */
export function addIntervals(anchor: number, interval: Interval, intervalCount: number, periods = 1): number {
  const steps = intervalCount * periods;
  if (interval === 'day') return anchor + steps * DAY;
  if (interval === 'week') return anchor + steps * 7 * DAY;
  const date = new Date(anchor * 1000);
  const months = interval === 'year' ? steps * 12 : steps;
  const targetMonth = date.getUTCMonth() + months;
  const year = date.getUTCFullYear() + Math.floor(targetMonth / 12);
  const month = ((targetMonth % 12) + 12) % 12;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const day = Math.min(date.getUTCDate(), lastDay);
  const result = Date.UTC(year, month, day, date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds());
  return Math.floor(result / 1000);
}

/** The period [start, end) that contains `at`, for a subscription anchored at `anchor`. */
export function periodContaining(anchor: number, interval: Interval, intervalCount: number, at: number): { start: number; end: number } {
  let index = 0;
  let start = anchor;
  let end = addIntervals(anchor, interval, intervalCount, 1);
  while (end <= at) {
    index += 1;
    start = end;
    end = addIntervals(anchor, interval, intervalCount, index + 1);
  }
  return { start, end };
}

/**
 * The prorated share of `amount` (cents) for the time from `at` to the period's end, to the second, rounded to the
 * cent: `round(amount × (end − at) / (end − start))`. Zero when `at` is at or past the end.
 */
export function prorate(amount: number, period: { start: number; end: number }, at: number): number {
  const length = period.end - period.start;
  if (length <= 0) return 0;
  const remaining = Math.min(Math.max(period.end - at, 0), length);
  return Math.round((amount * remaining) / length);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `21 Nov 2025`, the date form Stripe uses in proration descriptions. */
export function formatDay(seconds: number): string {
  const date = new Date(seconds * 1000);
  return `${date.getUTCDate()} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()}`;
}

/** `$30.00` for usd, `30.00 EUR` otherwise (Stripe localises; this is enough for descriptions). */
export function formatAmount(cents: number, currency: string): string {
  const value = (Math.abs(cents) / 100).toFixed(2);
  const sign = cents < 0 ? '-' : '';
  return currency.toLowerCase() === 'usd' ? `${sign}$${value}` : `${sign}${value} ${currency.toUpperCase()}`;
}
