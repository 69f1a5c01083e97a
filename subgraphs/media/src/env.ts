import { parseSubgraphEnv, subgraphEnvSchema, type SubgraphEnv } from '@tiergraph/runtime';

/** The media process's environment: the shared subgraph variables (README, Configuration). */
export const mediaEnvSchema = subgraphEnvSchema('media');

/** Parses process.env once at start; every problem is reported and the process exits non-zero. */
export function loadEnv(): SubgraphEnv {
  return parseSubgraphEnv('media', process.env);
}
