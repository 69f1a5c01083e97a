import { loadTypeDefs, StoreDirectory, type SubgraphDefinition } from '@tiergraph/runtime';
import type { BillingContext } from './context';
import { BillingService, type BillingShared } from './domain/billing-service';
import { DatabaseEntitlements } from './domain/database-entitlements';
import { DeclarationRegistry } from './domain/declarations';
import { billingFeatures } from './features';
import { createBillingPlatformFiguresService } from './platform-figures/platform-figures-service';
import { BillingPlatformFiguresStore } from './platform-figures/platform-figures-store';
import { createBillingJobs, runJobNow, scheduleBillingJobs, type BillingJobSchedule } from './jobs/billing-jobs';
import { capacitySnapshotClient } from './jobs/clients/capacity-snapshot-client';
import { PaymentService } from './stripe/payment-service';
import { createStripeClient, noStripe, type StripeSettings } from './stripe/settings';
import { mountStripeWebhooks } from './webhooks';
import { resolvers } from './resolvers';
import { BillingStore } from './store/billing-store';
import { entities as coreEntities } from './store/entities';
import { UsageService, type UsageShared } from './usage/usage-service';
import { UsageStore } from './usage/usage-store';
import type { UsageRules } from './usage/usage-rules';
import { usageEntities } from './usage/usage-entities';
import { migrations } from './store/migrations';

const systemClock = () => new Date();
const entities = [...coreEntities, ...usageEntities];
const DEFAULT_USAGE_RULES: UsageRules = { lateGraceHours: 24 };

export interface BillingOptions {
  stripe: StripeSettings;
  /** Metered usage's rules (USAGE_LATE_GRACE_HOURS); default: 24 hours of grace. */
  usage?: UsageRules;
  /** Billing's clock (periods, usage, insights); tests fix it. Default: the system clock. */
  clock?: () => Date;
  /** Background jobs: schedules (pg-boss) only when `schedule` is given; runJob works either way. */
  jobs?: BillingJobOptions;
}

export interface BillingJobOptions {
  /** Start pg-boss with the five schedules and their workers (JOBS_ENABLED); absent: no background runs (tests). */
  schedule?: BillingJobSchedule;
  /** CLEANUP_STALE_SUBSCRIPTIONS's age of an ended subscription, in days (JOBS_CLEANUP_AFTER_DAYS); default 90. */
  cleanupAfterDays?: number;
  /** Where CAPTURE_CAPACITY_SNAPSHOT asks for the snapshot; default: monitoring's GraphQL URL. */
  capacityUrl?: string;
}

/** Composition root of the billing subgraph. */
export function createBillingSubgraph(options: BillingOptions): SubgraphDefinition<BillingContext> {
  const stripe = createStripeClient(options.stripe);
  const clock = options.clock ?? systemClock;
  const usageRules = options.usage ?? DEFAULT_USAGE_RULES;
  return {
    name: 'billing',
    typeDefs: loadTypeDefs(__dirname),
    resolvers,
    entities,
    migrations,
    features: billingFeatures,
    usesEntitlements: true,
    entitlementSource: ({ dataSource }) => new DatabaseEntitlements(new BillingStore(dataSource), clock),
    configureApp: (app, deps) => mountStripeWebhooks(app, { ...deps, stripe, settings: options.stripe }),
    createContext: ({ dataSource, entitlements, urls, serviceToken, onEntitlementChange, databaseUrl, logger, onStop }) => {
      const store = new BillingStore(dataSource);
      const jobs = createBillingJobs({
        db: dataSource,
        stripe,
        capacity: capacitySnapshotClient(options.jobs?.capacityUrl ?? urls.monitoring, serviceToken),
        clock,
        cleanupAfterDays: options.jobs?.cleanupAfterDays ?? 90,
      });
      if (options.jobs?.schedule) {
        const runner = scheduleBillingJobs(jobs, databaseUrl, logger, options.jobs.schedule);
        runner.catch((error) => logger.error({ err: error }, `background jobs did not start: ${(error as Error).message}`));
        onStop(async () => {
          await (await runner.catch(() => null))?.stop();
        });
      }
      const declarations = new DeclarationRegistry(store);
      const figures = new BillingPlatformFiguresStore(dataSource);
      onEntitlementChange((change) => {
        if ('all' in change) declarations.invalidate();
      });
      const shared: BillingShared = {
        store,
        declarations,
        entitlements,
        currentEntitlements: new DatabaseEntitlements(store, clock),
        stores: new StoreDirectory(urls.tenancy, serviceToken),
        tenancyUrl: urls.tenancy,
        serviceToken,
        clock,
      };
      const usageShared: UsageShared = { usageStore: new UsageStore(dataSource), billingStore: store, declarations, stores: shared.stores, clock, rules: usageRules };
      return (base) => {
        const loaders = store.createLoaders();
        const usage = new UsageService(usageShared, loaders, usageShared.usageStore.createLoaders(), base.caller);
        const billing = new BillingService(shared, loaders, base.caller, (pair, subscription) => usage.meteredUsage(pair, subscription));
        const payments = new PaymentService(
          {
            stripe,
            settings: options.stripe,
            store,
            stores: shared.stores,
            tier: (code) => billing.tier(code),
            tierById: (id) => loaders.tierById.load(id),
            merchantName: async (merchantId, platformId) => (await billing.merchantAndPlatform(merchantId, platformId)).name,
            clock,
          },
          base.caller,
        );
        return {
          ...base,
          billing,
          payments,
          usage,
          platformFigures: createBillingPlatformFiguresService(figures, base.caller),
          jobs: { run: (name) => runJobNow(jobs, base.caller, name, clock, base.logger) },
        };
      };
    },
  };
}

/** Billing without Stripe: what migrations, composition and tests that do not pay use. */
export const billingSubgraph = createBillingSubgraph({ stripe: noStripe });

export { entities, migrations };
