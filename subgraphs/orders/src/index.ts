import { loadTypeDefs, type SubgraphDefinition } from '@tiergraph/runtime';
import type { OrdersContext } from './context';
import { OrdersService } from './domain/orders-service';
import { resolvers } from './resolvers';
import { entities } from './store/entities';
import { migrations } from './store/migrations';
import { OrdersStore } from './store/orders-store';

/** Composition root of the orders subgraph. */
export const ordersSubgraph: SubgraphDefinition<OrdersContext> = {
  name: 'orders',
  typeDefs: loadTypeDefs(__dirname),
  resolvers,
  entities,
  migrations,
  createContext: ({ dataSource }) => {
    const store = new OrdersStore(dataSource);
    return (base) => ({ ...base, orders: new OrdersService(store.createLoaders(), base.caller) });
  },
};

export { entities, migrations };
