import type { BillingCycle } from '../database/entities';

/** Adds calendar months in UTC, clamping the day (31 January + 1 month = 28 or 29 February). */
export function addMonths(date: Date, months: number): Date {
  const result = new Date(date.getTime());
  const day = result.getUTCDate();
  result.setUTCDate(1);
  result.setUTCMonth(result.getUTCMonth() + months);
  const lastDay = new Date(Date.UTC(result.getUTCFullYear(), result.getUTCMonth() + 1, 0)).getUTCDate();
  result.setUTCDate(Math.min(day, lastDay));
  return result;
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
 * the period-reset job has stored the new one. Periods are anchored on the stored start, so the day of month
 * does not drift after a short month.
 */
export function currentPeriod(stored: Period, cycle: BillingCycle, now: Date): Period {
  if (now < stored.end) return stored;
  const months = cycleMonths(cycle);
  let n = 1;
  while (addMonths(stored.start, (n + 1) * months) <= now) n++;
  return { start: addMonths(stored.start, n * months), end: addMonths(stored.start, (n + 1) * months) };
}

/** The current period of a stored subscription as of `now` (see currentPeriod). */
export function subscriptionPeriod(
  subscription: { currentPeriodStart: Date; currentPeriodEnd: Date; billingCycle: BillingCycle },
  now: Date,
): Period {
  return currentPeriod({ start: subscription.currentPeriodStart, end: subscription.currentPeriodEnd }, subscription.billingCycle, now);
}
