import { runSubgraphMain } from '@tiergraph/runtime';
import { loadEnv } from './env';
import { createBillingSubgraph } from './index';

const { env, stripe } = loadEnv();
void runSubgraphMain(createBillingSubgraph({ stripe }), env);
