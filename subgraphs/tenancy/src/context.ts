import type { RequestContext } from '@tiergraph/runtime';
import type { TenancyService } from './domain/tenancy-service';
import type { TenancyPlatformFiguresService } from './platform-figures/platform-figures-service';

export interface TenancyContext extends RequestContext {
  tenancy: TenancyService;
  platformFigures: TenancyPlatformFiguresService;
}
