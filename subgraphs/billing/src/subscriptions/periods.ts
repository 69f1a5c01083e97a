import type { BillingCycle } from '../database/entities';

/**
 * Adds calendar months in UTC, clamping the day (31 January + 1 month = 28 or 29 February). `day` is the day of
 * month aimed at (default: the date's own), for a date that was itself clamped (28 February of a chain on the 31st).
 */
export function addMonths(date: Date, months: number, day: number = date.getUTCDate()): Date {
  const result = new Date(date.getTime());
  result.setUTCDate(1);
  result.setUTCMonth(result.getUTCMonth() + months);
  const lastDay = new Date(Date.UTC(result.getUTCFullYear(), result.getUTCMonth() + 1, 0)).getUTCDate();
  result.setUTCDate(Math.min(day, lastDay));
  return result;
}

const isLastDayOfMonth = (date: Date) => new Date(date.getTime() + 86_400_000).getUTCDate() === 1;

/**
 * The day of month a stored period's chain is anchored on: its start's, unless the start was clamped to the end of
 * a short month and the end shows the day the chain is on (28 February → 31 March, as Stripe stores a subscription
 * started on 31 January, and as the period-reset job stores it): then the end's.
 */
export function anchorDay(stored: Period): number {
  const start = stored.start.getUTCDate();
  const end = stored.end.getUTCDate();
  return isLastDayOfMonth(stored.start) && end > start ? end : start;
}

export const cycleMonths = (cycle: BillingCycle): number => (cycle === 'ANNUAL' ? 12 : 1);

export interface Period {
  start: Date;
  end: Date;
}

/** The first period of a subscription that starts (or changes cycle) at `start`. */
export function firstPeriod(start: Date, cycle: BillingCycle): Period {
  return { start, end: addMonths(start, cycleMonths(cycle)) };
}

/**
 * The period that contains `now`, rolling the stored one forward by whole cycles when it has ended: a period
 * follows the billing cycle from the subscription's start, not the calendar, and reads are right even before
 * the period-reset job has stored the new one. Periods are anchored on the stored start's day of month (or the
 * day its chain is on, see anchorDay), so the day does not drift after a short month, and a stored period rolled
 * forward starts where it ended.
 */
export function currentPeriod(stored: Period, cycle: BillingCycle, now: Date): Period {
  if (now < stored.end) return stored;
  const months = cycleMonths(cycle);
  const day = anchorDay(stored);
  let n = 1;
  while (addMonths(stored.start, (n + 1) * months, day) <= now) n++;
  return { start: addMonths(stored.start, n * months, day), end: addMonths(stored.start, (n + 1) * months, day) };
}

/** The current period of a stored subscription as of `now` (see currentPeriod). */
export function subscriptionPeriod(
  subscription: { currentPeriodStart: Date; currentPeriodEnd: Date; billingCycle: BillingCycle },
  now: Date,
): Period {
  return currentPeriod({ start: subscription.currentPeriodStart, end: subscription.currentPeriodEnd }, subscription.billingCycle, now);
}
