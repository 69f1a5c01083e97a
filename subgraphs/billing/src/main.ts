import { runSubgraphMain } from '@tiergraph/runtime';
import { loadEnv } from './env';
import { billingSubgraph } from './index';

void runSubgraphMain(billingSubgraph, loadEnv());
