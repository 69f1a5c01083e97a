import { loadTypeDefs, StoreDirectory, type SubgraphDefinition } from '@tiergraph/runtime';
import type { BillingContext } from './context';
import { BillingService, type BillingShared } from './domain/billing-service';
import { DatabaseEntitlements } from './domain/database-entitlements';
import { DeclarationRegistry } from './domain/declarations';
import { billingFeatures } from './features';
import { resolvers } from './resolvers';
import { BillingStore } from './store/billing-store';
import { entities } from './store/entities';
import { migrations } from './store/migrations';

const systemClock = () => new Date();

/** Composition root of the billing subgraph. */
export const billingSubgraph: SubgraphDefinition<BillingContext> = {
  name: 'billing',
  typeDefs: loadTypeDefs(__dirname),
  resolvers,
  entities,
  migrations,
  features: billingFeatures,
  usesEntitlements: true,
  entitlementSource: ({ dataSource }) => new DatabaseEntitlements(new BillingStore(dataSource), systemClock),
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
    return (base) => ({ ...base, billing: new BillingService(shared, store.createLoaders(), base.caller) });
  },
};

export { entities, migrations };
