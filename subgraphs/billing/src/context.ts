import type { RequestContext } from '@tiergraph/runtime';
import type { EntitlementService } from './entitlements/entitlement-service';
import type { FeatureCatalogService } from './feature-catalog/feature-catalog-service';
import type { BillingPlatformFiguresService } from './platform-figures/platform-figures-service';
import type { JobName } from './jobs/job';
import type { JobRun } from './jobs/billing-jobs';
import type { PaymentService } from './payments/payment-service';
import type { SubscriptionService } from './subscriptions/subscription-service';
import type { TierService } from './tiers/tier-service';
import type { UsageService } from './usage/usage-service';

/** One service per concept, built per request by the composition root (index.ts). */
export interface BillingContext extends RequestContext {
  tiers: TierService;
  subscriptions: SubscriptionService;
  entitlements: EntitlementService;
  featureCatalog: FeatureCatalogService;
  payments: PaymentService;
  usage: UsageService;
  platformFigures: BillingPlatformFiguresService;
  jobs: { run(name: JobName): Promise<JobRun> };
}
