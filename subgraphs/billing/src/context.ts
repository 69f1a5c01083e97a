import type { RequestContext } from '@tiergraph/runtime';
import type { BillingService } from './domain/billing-service';
import type { BillingPlatformFiguresService } from './platform-figures/platform-figures-service';
import type { JobName } from './jobs/job';
import type { JobRun } from './jobs/billing-jobs';
import type { PaymentService } from './stripe/payment-service';
import type { UsageService } from './usage/usage-service';

export interface BillingContext extends RequestContext {
  billing: BillingService;
  payments: PaymentService;
  usage: UsageService;
  platformFigures: BillingPlatformFiguresService;
  jobs: { run(name: JobName): Promise<JobRun> };
}
