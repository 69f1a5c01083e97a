import { runSubgraphMain } from '@tiergraph/runtime';
import { billingSubgraph } from './index';

void runSubgraphMain(billingSubgraph);
