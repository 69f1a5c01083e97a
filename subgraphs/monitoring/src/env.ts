import { parseSubgraphEnv, subgraphEnvSchema, type SubgraphEnv } from '@tiergraph/runtime';

/** The monitoring process's environment: the shared subgraph variables (README, Configuration). */
export const monitoringEnvSchema = subgraphEnvSchema('monitoring');

/** Parses process.env once at start; every problem is reported and the process exits non-zero. */
export function loadEnv(): SubgraphEnv {
  return parseSubgraphEnv('monitoring', process.env);
}
