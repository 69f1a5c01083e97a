import { runSubgraphMain } from '@tiergraph/runtime';
import { loadEnv } from './env';
import { tenancySubgraph } from './index';

void runSubgraphMain(tenancySubgraph, loadEnv());
