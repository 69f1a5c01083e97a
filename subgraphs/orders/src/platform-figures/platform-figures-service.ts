import { BadUserInputError, platformMetricsReference, type Caller, type PlatformMetricsReference } from '@tiergraph/runtime';
import type { OrdersPlatformFiguresStore } from './platform-figures-store';

/** Orders' contribution to PlatformMetrics, for admins and services only. */
export class OrdersPlatformFiguresService {
  constructor(
    private readonly store: OrdersPlatformFiguresStore,
    private readonly caller: Caller,
  ) {}

  reference(id: string): PlatformMetricsReference {
    return platformMetricsReference(this.caller, id);
  }

  /** The caller names the start ("this month" is the caller's clock, not ours). */
  async orderCountSince(reference: PlatformMetricsReference, since: Date | string): Promise<number> {
    platformMetricsReference(this.caller, reference.id);
    const start = since instanceof Date ? since : new Date(since);
    if (Number.isNaN(start.getTime())) throw new BadUserInputError('since is not a date-time', 'since');
    return this.store.ordersCreatedSince(start);
  }
}
