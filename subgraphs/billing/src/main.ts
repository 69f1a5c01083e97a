import { runSubgraphMain } from '@tiergraph/runtime';
import { loadEnv } from './env';
import { createBillingSubgraph } from './index';

const { env, stripe, usage, jobs } = loadEnv();
void runSubgraphMain(createBillingSubgraph({ stripe, usage, jobs }), env);
