import type { JobOutcome } from './job';
import type { CapacitySnapshotClient } from '../clients/capacity-snapshot-client';

export interface CapacitySnapshotDependencies {
  capacity: CapacitySnapshotClient;
}

/**
 * CAPTURE_CAPACITY_SNAPSHOT: monitoring owns the snapshots and keeps one per UTC day, so this job only asks it to
 * capture; a second run the same day gets the day's existing snapshot back and changes nothing. `affected` is that
 * one snapshot of the day either way (monitoring's answer does not say whether this run created it).
 */
export async function captureCapacitySnapshot({ capacity }: CapacitySnapshotDependencies): Promise<JobOutcome> {
  const snapshot = await capacity.capture();
  return {
    affected: 1,
    message: `capacity snapshot of ${snapshot.snapshotDate} (${snapshot.id}): ${snapshot.totalStores} stores, ${snapshot.totalSubscriptions} subscriptions, ${snapshot.totalProducts} products`,
  };
}
