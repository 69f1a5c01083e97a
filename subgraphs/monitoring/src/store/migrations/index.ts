import { MonitoringInit1732147205000 } from './1732147205000-monitoring-init';
import { SnapshotFigures1732148000000 } from './1732148000000-snapshot-figures';

export const migrations = [MonitoringInit1732147205000, SnapshotFigures1732148000000];
