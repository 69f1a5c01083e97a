import { runSubgraphMain } from '@tiergraph/runtime';
import { ordersSubgraph } from './index';

void runSubgraphMain(ordersSubgraph);
