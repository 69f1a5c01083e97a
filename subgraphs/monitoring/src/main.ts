import { runSubgraphMain } from '@tiergraph/runtime';
import { loadEnv } from './env';
import { createMonitoringSubgraph } from './index';

const { env, gateway, capacity } = loadEnv();
void runSubgraphMain(
  createMonitoringSubgraph({
    gateway: { graphqlUrl: () => gateway.graphqlUrl, metricsUrl: () => gateway.metricsUrl, timeoutMs: gateway.timeoutMs },
    capacity,
  }),
  env,
);
