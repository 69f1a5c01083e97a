import { runSubgraphMain } from '@tiergraph/runtime';
import { loadEnv } from './env';
import { monitoringSubgraph } from './index';

void runSubgraphMain(monitoringSubgraph, loadEnv());
