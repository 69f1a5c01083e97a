import { loadTypeDefs, type SubgraphDefinition } from '@tiergraph/runtime';
import type { CatalogContext } from './context';
import { CatalogService } from './domain/catalog-service';
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
  createContext: ({ dataSource }) => {
    const store = new CatalogStore(dataSource);
    return (base) => ({ ...base, catalog: new CatalogService(store.createLoaders(), base.caller) });
  },
};

export { entities, migrations };
