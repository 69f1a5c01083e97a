import { runSubgraphMain } from '@tiergraph/runtime';
import { mediaSubgraph } from './index';

void runSubgraphMain(mediaSubgraph);
