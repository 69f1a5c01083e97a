import { loadTypeDefs, type SubgraphDefinition } from '@tiergraph/runtime';
import { CatalogClient } from './clients/catalog-client';
import { OrdersPlatformFiguresService } from './platform-figures/platform-figures-service';
import { OrdersPlatformFiguresStore } from './platform-figures/platform-figures-store';
import type { OrdersContext } from './context';
import { ordersFeatures } from './features';
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
  features: ordersFeatures,
  usesEntitlements: true,
  createContext: ({ dataSource, entitlements, urls, serviceToken, stores }) => {
    const store = new OrdersStore(dataSource);
    const catalog = new CatalogClient(urls.catalog, serviceToken);
    const figures = new OrdersPlatformFiguresStore(dataSource);
    return (base) => ({
      ...base,
      orders: new OrdersService({ store, loaders: store.createLoaders(), stores, catalog, entitlements }, base.caller),
      platformFigures: new OrdersPlatformFiguresService(figures, base.caller),
    });
  },
};

export { entities, migrations, ordersFeatures };
export { ORDER_COUNTS } from './store/counters';
