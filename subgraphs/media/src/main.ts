import { runSubgraphMain } from '@tiergraph/runtime';
import { loadEnv } from './env';
import { mediaSubgraph } from './index';

void runSubgraphMain(mediaSubgraph, loadEnv());
