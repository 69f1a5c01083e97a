import { runSubgraphMain } from '@tiergraph/runtime';
import { loadEnv } from './env';
import { createBillingSubgraph } from './index';

const { env, stripe, usage } = loadEnv();
void runSubgraphMain(createBillingSubgraph({ stripe, usage }), env);
