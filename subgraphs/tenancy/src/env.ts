import { parseSubgraphEnv, subgraphEnvSchema, type SubgraphEnv } from '@tiergraph/runtime';

/** The tenancy process's environment: the shared subgraph variables (README, Configuration). */
export const tenancyEnvSchema = subgraphEnvSchema('tenancy');

/** Parses process.env once at start; every problem is reported and the process exits non-zero. */
export function loadEnv(): SubgraphEnv {
  return parseSubgraphEnv('tenancy', process.env);
}
