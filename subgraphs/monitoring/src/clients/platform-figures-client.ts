import { AppError, callSubgraph, type SubscriptionStatus } from '@tiergraph/runtime';
import type { FeatureCapacity, PlatformFigures } from '../capacity/figures';

/** Where the platform's figures come from: the graph in production, a fixed answer in tests of monitoring alone. */
export interface PlatformFiguresSource {
  /** `monthStart`: the start of the caller's current UTC month (orders this month). */
  figures(monthStart: Date): Promise<PlatformFigures>;
}

const PLATFORM_FIGURES = `query MonitoringPlatformFigures($since: DateTime!) {
  platformMetrics {
    id
    storeCount activeStoreCount teamMemberCount
    productCount
    orderCountSince(since: $since)
    mediaFileCount mediaStoredBytes
    subscriptionCounts { status count }
    liveTierDistribution { tierCode count }
    featureCapacity { featureCode limitSum limitedSubscriptions unlimitedSubscriptions }
  }
}`;

interface Answer {
  platformMetrics: {
    storeCount: number;
    activeStoreCount: number;
    teamMemberCount: number;
    productCount: number;
    orderCountSince: number;
    mediaFileCount: number;
    mediaStoredBytes: number;
    subscriptionCounts: Array<{ status: SubscriptionStatus; count: number }>;
    liveTierDistribution: Array<{ tierCode: string; count: number }>;
    featureCapacity: Array<FeatureCapacity & { featureCode: string }>;
  };
}

/** Monitoring could not gather the platform's figures: nothing was written. */
export class PlatformFiguresUnavailableError extends AppError {
  constructor(reason: string) {
    super(`the platform's figures cannot be gathered through the gateway (${reason}); nothing was written`, 'PLATFORM_FIGURES_UNAVAILABLE');
  }
}

/**
 * The platform's figures from the graph: one query through the gateway with a service token; the gateway fans
 * it out to every owner's PlatformMetrics contribution (tenancy, catalog, orders, media, billing). Monitoring
 * reads no other subgraph's tables.
 */
export class GatewayPlatformFigures implements PlatformFiguresSource {
  constructor(
    private readonly gatewayUrl: () => string,
    private readonly serviceToken: () => Promise<string>,
    private readonly timeoutMs = 10_000,
  ) {}

  async figures(monthStart: Date): Promise<PlatformFigures> {
    let answer: Answer;
    try {
      answer = await callSubgraph<Answer>(this.gatewayUrl(), PLATFORM_FIGURES, { since: monthStart.toISOString() }, this.serviceToken, this.timeoutMs);
    } catch (error) {
      throw new PlatformFiguresUnavailableError((error as Error).message);
    }
    const m = answer.platformMetrics;
    return {
      totalStores: m.storeCount,
      activeStores: m.activeStoreCount,
      teamMembers: m.teamMemberCount,
      products: m.productCount,
      ordersThisMonth: m.orderCountSince,
      mediaFiles: m.mediaFileCount,
      mediaBytes: m.mediaStoredBytes,
      subscriptionsByStatus: Object.fromEntries(m.subscriptionCounts.map((c) => [c.status, c.count])) as Record<SubscriptionStatus, number>,
      tierDistribution: m.liveTierDistribution,
      featureCapacity: Object.fromEntries(m.featureCapacity.map(({ featureCode, ...capacity }) => [featureCode, capacity])),
    };
  }
}
