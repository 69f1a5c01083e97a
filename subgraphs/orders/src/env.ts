import { parseSubgraphEnv, subgraphEnvSchema, type SubgraphEnv } from '@tiergraph/runtime';

/** The orders process's environment: the shared subgraph variables (README, Configuration). */
export const ordersEnvSchema = subgraphEnvSchema('orders');

/** Parses process.env once at start; every problem is reported and the process exits non-zero. */
export function loadEnv(): SubgraphEnv {
  return parseSubgraphEnv('orders', process.env);
}
