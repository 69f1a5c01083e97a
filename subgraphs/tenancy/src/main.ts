import { runSubgraphMain } from '@tiergraph/runtime';
import { tenancySubgraph } from './index';

void runSubgraphMain(tenancySubgraph);
