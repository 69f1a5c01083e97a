import { loadTypeDefs, type SubgraphDefinition } from '@tiergraph/runtime';
import { createCatalogPlatformFiguresService } from './platform-figures/platform-figures-service';
import { CatalogPlatformFiguresStore } from './platform-figures/platform-figures-store';
import type { CatalogContext } from './context';
import { CatalogService } from './domain/catalog-service';
import { catalogFeatures } from './features';
import { resolvers } from './resolvers';
import { CatalogStore } from './store/catalog-store';
import { entities } from './store/entities';
import { migrations } from './store/migrations';

/** Composition root of the catalog subgraph. */
export const catalogSubgraph: SubgraphDefinition<CatalogContext> = {
  name: 'catalog',
  typeDefs: loadTypeDefs(__dirname),
  resolvers,
  entities,
  migrations,
  features: catalogFeatures,
  usesEntitlements: true,
  createContext: ({ dataSource, entitlements, stores }) => {
    const store = new CatalogStore(dataSource);
    const figures = new CatalogPlatformFiguresStore(dataSource);
    return (base) => ({
      ...base,
      catalog: new CatalogService({ store, loaders: store.createLoaders(), stores, entitlements }, base.caller),
      platformFigures: createCatalogPlatformFiguresService(figures, base.caller),
    });
  },
};

export { catalogFeatures, entities, migrations };
export { PRODUCT_COUNTS } from './store/counters';
