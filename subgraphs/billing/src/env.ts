import { parseSubgraphEnv, subgraphEnvSchema, type SubgraphEnv } from '@tiergraph/runtime';

/** The billing process's environment: the shared subgraph variables (README, Configuration). */
export const billingEnvSchema = subgraphEnvSchema('billing');

/** Parses process.env once at start; every problem is reported and the process exits non-zero. */
export function loadEnv(): SubgraphEnv {
  return parseSubgraphEnv('billing', process.env);
}
