import { loadTypeDefs, type SubgraphDefinition, type SubgraphDependencies } from '@tiergraph/runtime';
import { defaultCapacityConfig, type CapacityConfig } from './capacity/capacity-config';
import { GatewayMetricsClient, type GatewayFiguresSource } from './clients/gateway-metrics-client';
import { GatewayPlatformFigures, type PlatformFiguresSource } from './clients/platform-figures-client';
import type { MonitoringContext } from './context';
import { MonitoringService, type MonitoringShared } from './domain/monitoring-service';
import { resolvers } from './resolvers';
import { entities } from './store/entities';
import { migrations } from './store/migrations';
import { MonitoringStore } from './store/monitoring-store';

export interface MonitoringOptions {
  /** Where the gateway is: a getter, as tests learn the gateway's port after the subgraphs started. */
  gateway?: { graphqlUrl: () => string; metricsUrl: () => string; timeoutMs?: number };
  /** Tiers, thresholds and recommendation rules; default: the shipped capacity.json. */
  capacity?: CapacityConfig;
  /** Where the platform's figures come from (default: the gateway); tests of monitoring alone give fixed ones. */
  platformFigures?: (deps: SubgraphDependencies) => PlatformFiguresSource;
  gatewayFigures?: GatewayFiguresSource;
  /** Monitoring's clock (the snapshot's day, the trend window, "this month"); tests fix it. */
  clock?: () => Date;
}

const DEFAULT_GATEWAY: NonNullable<MonitoringOptions['gateway']> = { graphqlUrl: () => 'http://127.0.0.1:4000/graphql', metricsUrl: () => 'http://127.0.0.1:4000/metrics' };

/** Composition root of the monitoring subgraph. */
export function createMonitoringSubgraph(options: MonitoringOptions = {}): SubgraphDefinition<MonitoringContext> {
  const gateway = options.gateway ?? DEFAULT_GATEWAY;
  const config = options.capacity ?? defaultCapacityConfig();
  return {
    name: 'monitoring',
    typeDefs: loadTypeDefs(__dirname),
    resolvers,
    entities,
    migrations,
    createContext: (deps) => {
      const store = new MonitoringStore(deps.dataSource);
      const shared: MonitoringShared = {
        store,
        figures: options.platformFigures?.(deps) ?? new GatewayPlatformFigures(gateway.graphqlUrl, deps.serviceToken, gateway.timeoutMs),
        gateway: options.gatewayFigures ?? new GatewayMetricsClient(gateway.metricsUrl),
        config,
        clock: options.clock ?? (() => new Date()),
        logger: deps.logger,
      };
      return (base) => ({ ...base, monitoring: new MonitoringService(shared, store.createLoaders(), base.caller) });
    },
  };
}

/** Monitoring as development configures it (the gateway on its default port): what composition and tests use. */
export const monitoringSubgraph = createMonitoringSubgraph();

export { entities, migrations };
export type { CapacityConfig } from './capacity/capacity-config';
