import type { RequestContext } from '@tiergraph/runtime';
import type { BillingService } from './domain/billing-service';

export interface BillingContext extends RequestContext {
  billing: BillingService;
}
