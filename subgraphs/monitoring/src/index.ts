import { loadTypeDefs, type SubgraphDefinition } from '@tiergraph/runtime';
import type { MonitoringContext } from './context';
import { MonitoringService } from './domain/monitoring-service';
import { resolvers } from './resolvers';
import { entities } from './store/entities';
import { migrations } from './store/migrations';
import { MonitoringStore } from './store/monitoring-store';

/** Composition root of the monitoring subgraph. */
export const monitoringSubgraph: SubgraphDefinition<MonitoringContext> = {
  name: 'monitoring',
  typeDefs: loadTypeDefs(__dirname),
  resolvers,
  entities,
  migrations,
  createContext: ({ dataSource }) => {
    const store = new MonitoringStore(dataSource);
    return (base) => ({ ...base, monitoring: new MonitoringService(store.createLoaders(), base.caller) });
  },
};

export { entities, migrations };
