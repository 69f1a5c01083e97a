import { runSubgraphMain } from '@tiergraph/runtime';
import { loadEnv } from './env';
import { createMediaSubgraph } from './index';

const { env, cors, storage } = loadEnv();
void runSubgraphMain(createMediaSubgraph({ cors, storage }), env);
