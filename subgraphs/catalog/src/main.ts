import { runSubgraphMain } from '@tiergraph/runtime';
import { loadEnv } from './env';
import { catalogSubgraph } from './index';

void runSubgraphMain(catalogSubgraph, loadEnv());
