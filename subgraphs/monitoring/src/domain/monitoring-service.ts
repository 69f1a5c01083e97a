import { ForbiddenError, isUuid, NotFoundError, type Caller } from '@tiergraph/runtime';
import type { CapacitySnapshotEntity } from '../store/entities';
import type { MonitoringLoaders } from '../store/monitoring-store';

/** Monitoring's rules for one request: platform-wide figures are for admins and services only. */
export class MonitoringService {
  constructor(
    private readonly loaders: MonitoringLoaders,
    private readonly caller: Caller,
  ) {}

  /** Checked before any lookup, so a tenant learns nothing, not even whether a snapshot exists. */
  private assertCanReadCapacity(): void {
    if (this.caller.role !== 'admin' && this.caller.role !== 'service') {
      throw new ForbiddenError('capacity figures are for admins and services only');
    }
  }

  async capacitySnapshot(id: string): Promise<CapacitySnapshotEntity> {
    this.assertCanReadCapacity();
    const snapshot = isUuid(id) ? await this.loaders.capacitySnapshot.load(id) : null;
    if (!snapshot) throw new NotFoundError('CapacitySnapshot', id);
    return snapshot;
  }

  // ───────────── federation references: the same rules as any read ─────────────

  referencedCapacitySnapshot(id: string): Promise<CapacitySnapshotEntity> {
    return this.capacitySnapshot(id);
  }
}
