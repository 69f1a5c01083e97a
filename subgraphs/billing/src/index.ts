import { ALL_TAGS, loadTypeDefs, notifyTagsChanged, StoreDirectory, type Caller, type SubgraphDefinition } from '@tiergraph/runtime';
import type { DataSource } from 'typeorm';
import { TenancyClient } from './clients/tenancy-client';
import type { BillingContext } from './context';
import { entities as coreEntities } from './database/entities';
import { migrations } from './database/migrations';
import { DatabaseEntitlements } from './entitlements/database-entitlements';
import { EntitlementService } from './entitlements/entitlement-service';
import { OverrideStore } from './entitlements/override-store';
import { PlanReader } from './entitlements/plan-reader';
import { PlanStore } from './entitlements/plan-store';
import { DeclarationRegistry } from './feature-catalog/declaration-registry';
import { FeatureCatalogService } from './feature-catalog/feature-catalog-service';
import { FeatureCatalogStore } from './feature-catalog/feature-catalog-store';
import { billingFeatures } from './features';
import { createBillingJobs, runJobNow, scheduleBillingJobs, type BillingJobSchedule } from './jobs/billing-jobs';
import { capacitySnapshotClient } from './clients/capacity-snapshot-client';
import { PaymentService } from './payments/payment-service';
import { PaymentStore } from './payments/payment-store';
import { createStripeClient, noStripe, type StripeSettings } from './payments/stripe-settings';
import { mountStripeWebhooks } from './payments/webhooks';
import { createBillingPlatformFiguresService } from './platform-figures/platform-figures-service';
import { BillingPlatformFiguresStore } from './platform-figures/platform-figures-store';
import { resolvers } from './resolvers';
import { subscriptionPeriod } from './subscriptions/periods';
import { SubscriptionService } from './subscriptions/subscription-service';
import { SubscriptionStore } from './subscriptions/subscription-store';
import { TierCatalog } from './tiers/tier-catalog';
import { TierService } from './tiers/tier-service';
import { TierStore } from './tiers/tier-store';
import { usageEntities } from './usage/usage-entities';
import type { UsageRules } from './usage/usage-rules';
import { UsageService } from './usage/usage-service';
import { UsageStore } from './usage/usage-store';

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

/** Every concept's store, one per process. */
function createStores(db: DataSource) {
  const overrides = new OverrideStore(db);
  const usage = new UsageStore(db);
  return {
    tiers: new TierStore(db),
    subscriptions: new SubscriptionStore(db),
    overrides,
    plans: new PlanStore(db, { overrides, usage }),
    featureCatalog: new FeatureCatalogStore(db),
    payments: new PaymentStore(db),
    usage,
  };
}

/** Composition root of the billing subgraph: stores per process, services per request, each built one way: `new XService(deps, caller)`. */
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
    entitlementSource: ({ dataSource }) => new DatabaseEntitlements(createStores(dataSource), clock),
    configureApp: (app, deps) => mountStripeWebhooks(app, { ...deps, stripe, settings: options.stripe }),
    createContext: ({ dataSource, entitlements, urls, serviceToken, onEntitlementChange, entitlementListenerLive, databaseUrl, logger, onStop }) => {
      const stores = createStores(dataSource);
      const jobs = createBillingJobs({
        db: dataSource,
        usageStore: stores.usage,
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
      const declarations = new DeclarationRegistry(stores.featureCatalog);
      const tierCatalog = new TierCatalog(stores.tiers, entitlementListenerLive);
      const figures = new BillingPlatformFiguresStore(dataSource);
      onEntitlementChange((change) => {
        if (!('all' in change)) return;
        declarations.invalidate();
        tierCatalog.invalidate();
        // the gateway's response cache clears on the same NOTIFY, possibly before this process dropped its
        // declarations and tiers: once they are dropped, say so again, so no answer built from the old ones outlives this
        notifyTagsChanged(dataSource, [ALL_TAGS]).catch((error) => logger.warn({ err: error }, 'could not notify the feature declarations’ reload'));
      });
      const currentEntitlements = new DatabaseEntitlements(stores, clock);
      const storeDirectory = new StoreDirectory(urls.tenancy, serviceToken);
      const tenancy = new TenancyClient(urls.tenancy, serviceToken);

      return (base) => {
        const caller: Caller = base.caller;
        const tierLoaders = stores.tiers.createLoaders();
        const catalogLoaders = tierCatalog.createLoaders();
        const overrideLoaders = stores.overrides.createLoaders();
        const usageLoaders = stores.usage.createLoaders();
        const baseSubscriptionLoaders = stores.subscriptions.createLoaders();
        const subscriptionLoaders = {
          ...baseSubscriptionLoaders,
          ...stores.plans.createLoaders({ subscriptionById: baseSubscriptionLoaders.subscriptionById, overridesOf: overrideLoaders.overridesOf, meteredTotals: usageLoaders.meteredTotals }, (subscriptions) => {
            const now = clock();
            return subscriptions.map((subscription) => subscriptionPeriod(subscription, now).start);
          }),
        };
        // answers read the tiers' limits from the process's catalog; metered usage, which enforces them, from the tables
        const plans = new PlanReader({ ...subscriptionLoaders, ...overrideLoaders, limitsOfTier: catalogLoaders.limitsOfTier });
        const currentPlans = new PlanReader({ ...subscriptionLoaders, ...overrideLoaders, ...tierLoaders });
        const featureCatalog = new FeatureCatalogService({ store: stores.featureCatalog, declarations }, caller);
        const tiers = new TierService({ store: stores.tiers, loaders: tierLoaders, catalog: tierCatalog, catalogLoaders, featureCatalog }, caller);
        const subscriptions = new SubscriptionService(
          { store: stores.subscriptions, loaders: subscriptionLoaders, tiers, tenancy, stores: storeDirectory, clock },
          caller,
        );
        const usage = new UsageService(
          {
            usageStore: stores.usage,
            loaders: usageLoaders,
            plans: currentPlans,
            tierStore: stores.tiers,
            tierLoaders,
            declarations,
            stores: storeDirectory,
            clock,
            rules: usageRules,
          },
          caller,
        );
        const entitlementService = new EntitlementService(
          { plans, overrides: stores.overrides, declarations, featureCatalog, tenancy, stores: storeDirectory, usage, entitlements, currentEntitlements },
          caller,
        );
        const payments = new PaymentService(
          {
            stripe,
            settings: options.stripe,
            store: stores.payments,
            loaders: stores.payments.createLoaders(),
            subscriptions: stores.subscriptions,
            subscriptionLoaders,
            tiers,
            tenancy,
            stores: storeDirectory,
            clock,
          },
          caller,
        );
        return {
          ...base,
          tiers,
          subscriptions,
          entitlements: entitlementService,
          featureCatalog,
          payments,
          usage,
          platformFigures: createBillingPlatformFiguresService(figures, caller),
          jobs: { run: (name) => runJobNow(jobs, caller, name, clock, base.logger) },
        };
      };
    },
  };
}

/** Billing without Stripe: what migrations, composition and tests that do not pay use. */
export const billingSubgraph = createBillingSubgraph({ stripe: noStripe });

export { entities, migrations };
