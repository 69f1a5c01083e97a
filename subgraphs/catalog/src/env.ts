import { parseSubgraphEnv, subgraphEnvSchema, type SubgraphEnv } from '@tiergraph/runtime';

/** The catalog process's environment: the shared subgraph variables (README, Configuration). */
export const catalogEnvSchema = subgraphEnvSchema('catalog');

/** Parses process.env once at start; every problem is reported and the process exits non-zero. */
export function loadEnv(): SubgraphEnv {
  return parseSubgraphEnv('catalog', process.env);
}
