import { MonitoringInit1732147205000 } from './1732147205000-monitoring-init';

export const migrations = [MonitoringInit1732147205000];
