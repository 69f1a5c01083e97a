import { loadTypeDefs, StoreDirectory, type SubgraphDefinition } from '@tiergraph/runtime';
import type { BillingContext } from './context';
import { BillingService, type BillingShared } from './domain/billing-service';
import { DatabaseEntitlements } from './domain/database-entitlements';
import { DeclarationRegistry } from './domain/declarations';
import { billingFeatures } from './features';
import { PaymentService } from './stripe/payment-service';
import { createStripeClient, noStripe, type StripeSettings } from './stripe/settings';
import { mountStripeWebhooks } from './webhooks';
import { resolvers } from './resolvers';
import { BillingStore } from './store/billing-store';
import { entities } from './store/entities';
import { migrations } from './store/migrations';

const systemClock = () => new Date();

export interface BillingOptions {
  stripe: StripeSettings;
}

/** Composition root of the billing subgraph. */
export function createBillingSubgraph(options: BillingOptions): SubgraphDefinition<BillingContext> {
  const stripe = createStripeClient(options.stripe);
  return {
    name: 'billing',
    typeDefs: loadTypeDefs(__dirname),
    resolvers,
    entities,
    migrations,
    features: billingFeatures,
    usesEntitlements: true,
    entitlementSource: ({ dataSource }) => new DatabaseEntitlements(new BillingStore(dataSource), systemClock),
    configureApp: (app, deps) => mountStripeWebhooks(app, { ...deps, stripe, settings: options.stripe }),
    createContext: ({ dataSource, entitlements, urls, serviceToken, onEntitlementChange }) => {
      const store = new BillingStore(dataSource);
      const declarations = new DeclarationRegistry(store);
      onEntitlementChange((change) => {
        if ('all' in change) declarations.invalidate();
      });
      const shared: BillingShared = {
        store,
        declarations,
        entitlements,
        currentEntitlements: new DatabaseEntitlements(store, systemClock),
        stores: new StoreDirectory(urls.tenancy, serviceToken),
        tenancyUrl: urls.tenancy,
        serviceToken,
        clock: systemClock,
      };
      return (base) => {
        const loaders = store.createLoaders();
        const billing = new BillingService(shared, loaders, base.caller);
        const payments = new PaymentService(
          {
            stripe,
            settings: options.stripe,
            store,
            stores: shared.stores,
            tier: (code) => billing.tier(code),
            tierById: (id) => loaders.tierById.load(id),
            merchantName: async (merchantId, platformId) => (await billing.merchantAndPlatform(merchantId, platformId)).name,
            clock: systemClock,
          },
          base.caller,
        );
        return { ...base, billing, payments };
      };
    },
  };
}

/** Billing without Stripe: what migrations, composition and tests that do not pay use. */
export const billingSubgraph = createBillingSubgraph({ stripe: noStripe });

export { entities, migrations };
