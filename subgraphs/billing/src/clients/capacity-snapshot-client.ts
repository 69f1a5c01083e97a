import { AppError, callSubgraph, InternalCallError } from '@tiergraph/runtime';

/** The contract's CaptureCapacitySnapshot operation (contract/operations.graphql), as monitoring answers it. */
export const CAPTURE_CAPACITY_SNAPSHOT = `mutation CaptureCapacitySnapshot {
  captureCapacitySnapshot {
    id snapshotDate totalStores activeStores trialStores
    totalSubscriptions activeSubscriptions
    totalProducts totalOrdersMonth totalTeamMembers
    storageUsedGb dbSizeMb
    theoreticalProductsLimit theoreticalOrdersLimit theoreticalTeamLimit
    tierDistribution { tierCode count }
  }
}`;

export interface CapacitySnapshot {
  id: string;
  snapshotDate: string;
  totalStores: number;
  activeStores: number;
  trialStores: number;
  totalSubscriptions: number;
  activeSubscriptions: number;
  totalProducts: number;
  totalOrdersMonth: number;
  totalTeamMembers: number;
  storageUsedGb: number;
  dbSizeMb: number;
  theoreticalProductsLimit: number | null;
  theoreticalOrdersLimit: number | null;
  theoreticalTeamLimit: number | null;
  tierDistribution: Array<{ tierCode: string; count: number }>;
}

export interface CapacitySnapshotClient {
  /** Monitoring's snapshot of today: captured now, or the one already taken today (monitoring keeps one per day). */
  capture(): Promise<CapacitySnapshot>;
}

/**
 * Asks monitoring (its /graphql, or the gateway's) with a `service` token. Monitoring's refusals keep their code;
 * monitoring not answering is MONITORING_UNAVAILABLE (the scheduled run is retried).
 */
export function capacitySnapshotClient(url: string, serviceToken: () => Promise<string>, timeoutMs = 30_000): CapacitySnapshotClient {
  return {
    capture: async () => {
      try {
        return (await callSubgraph<{ captureCapacitySnapshot: CapacitySnapshot }>(url, CAPTURE_CAPACITY_SNAPSHOT, {}, serviceToken, timeoutMs)).captureCapacitySnapshot;
      } catch (error) {
        if (error instanceof InternalCallError) throw new AppError(`monitoring cannot be reached to capture the capacity snapshot: ${error.message}`, 'MONITORING_UNAVAILABLE');
        throw error;
      }
    },
  };
}
