import { PlatformFiguresOnce, SUBSCRIPTION_STATUSES, type Caller } from '@tiergraph/runtime';
import type { BillingPlatformFigures, BillingPlatformFiguresStore, StatusCount } from './platform-figures-store';

/** Every status once, in the enum's order, zero where no subscription has it. */
export function everyStatus(counts: readonly StatusCount[]): StatusCount[] {
  const byStatus = new Map(counts.map((c) => [c.status, c.count]));
  return SUBSCRIPTION_STATUSES.map((status) => ({ status, count: byStatus.get(status) ?? 0 }));
}

/** Billing's contribution to PlatformMetrics: for admins and services only, counted once per request. */
export type BillingPlatformFiguresService = PlatformFiguresOnce<BillingPlatformFigures>;

export function createBillingPlatformFiguresService(store: BillingPlatformFiguresStore, caller: Caller): BillingPlatformFiguresService {
  return new PlatformFiguresOnce(caller, async () => {
    const figures = await store.figures();
    return { ...figures, statusCounts: everyStatus(figures.statusCounts) };
  });
}
