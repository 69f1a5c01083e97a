import { runSubgraphMain } from '@tiergraph/runtime';
import { loadEnv } from './env';
import { ordersSubgraph } from './index';

void runSubgraphMain(ordersSubgraph, loadEnv());
