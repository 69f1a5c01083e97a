import { callSubgraph } from '@tiergraph/runtime';

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

/** Asks monitoring (its /graphql, or the gateway's) with a `service` token. */
export function capacitySnapshotClient(url: string, serviceToken: () => Promise<string>, timeoutMs = 30_000): CapacitySnapshotClient {
  return {
    capture: async () => (await callSubgraph<{ captureCapacitySnapshot: CapacitySnapshot }>(url, CAPTURE_CAPACITY_SNAPSHOT, {}, serviceToken, timeoutMs)).captureCapacitySnapshot,
  };
}
