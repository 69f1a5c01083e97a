import { runSubgraphMain } from '@tiergraph/runtime';
import { monitoringSubgraph } from './index';

void runSubgraphMain(monitoringSubgraph);
