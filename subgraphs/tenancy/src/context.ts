import type { RequestContext } from '@tiergraph/runtime';
import type { TenancyService } from './domain/tenancy-service';

export interface TenancyContext extends RequestContext {
  tenancy: TenancyService;
}
