import type { RequestContext } from '@tiergraph/runtime';
import type { MonitoringService } from './domain/monitoring-service';

export interface MonitoringContext extends RequestContext {
  monitoring: MonitoringService;
}
