import { loadTypeDefs, type SubgraphDefinition } from '@tiergraph/runtime';
import { createTenancyPlatformFiguresService } from './platform-figures/platform-figures-service';
import { TenancyPlatformFiguresStore } from './platform-figures/platform-figures-store';
import type { TenancyContext } from './context';
import { TenancyService } from './domain/tenancy-service';
import { tenancyFeatures } from './features';
import { resolvers } from './resolvers';
import { entities } from './store/entities';
import { migrations } from './store/migrations';
import { TenancyStore } from './store/tenancy-store';

/** Composition root of the tenancy subgraph. */
export const tenancySubgraph: SubgraphDefinition<TenancyContext> = {
  name: 'tenancy',
  typeDefs: loadTypeDefs(__dirname),
  resolvers,
  entities,
  migrations,
  features: tenancyFeatures,
  usesEntitlements: true,
  // tenancy is the source of truth for store → merchant: it confirms store tokens from its own table
  storeOwner: ({ dataSource }) => {
    const store = new TenancyStore(dataSource);
    return (storeId) => store.ownerOfStore(storeId);
  },
  createContext: ({ dataSource, entitlements }) => {
    const store = new TenancyStore(dataSource);
    const figures = new TenancyPlatformFiguresStore(dataSource);
    return (base) => ({
      ...base,
      tenancy: new TenancyService({ store, loaders: store.createLoaders(), entitlements }, base.caller),
      platformFigures: createTenancyPlatformFiguresService(figures, base.caller),
    });
  },
};

export { entities, migrations };
export { TEAM_MEMBER_COUNTS } from './store/counters';
