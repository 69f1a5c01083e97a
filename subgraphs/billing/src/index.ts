import { loadTypeDefs, type SubgraphDefinition } from '@tiergraph/runtime';
import type { BillingContext } from './context';
import { BillingService } from './domain/billing-service';
import { resolvers } from './resolvers';
import { BillingStore } from './store/billing-store';
import { entities } from './store/entities';
import { migrations } from './store/migrations';

/** Composition root of the billing subgraph. */
export const billingSubgraph: SubgraphDefinition<BillingContext> = {
  name: 'billing',
  typeDefs: loadTypeDefs(__dirname),
  resolvers,
  entities,
  migrations,
  createContext: ({ dataSource }) => {
    const store = new BillingStore(dataSource);
    return (base) => ({ ...base, billing: new BillingService(store.createLoaders()) });
  },
};

export { entities, migrations };
