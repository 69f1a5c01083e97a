import { runSubgraphMain } from '@tiergraph/runtime';
import { catalogSubgraph } from './index';

void runSubgraphMain(catalogSubgraph);
