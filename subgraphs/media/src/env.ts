import { corsEnvShape, corsSettingsOf, nodeEnvSchema, parseEnvOrExit, subgraphEnvSchema, type CorsSettings, type SubgraphEnv } from '@tiergraph/runtime';
import { z } from 'zod';

/** The media process's environment: the shared subgraph variables (README, Configuration). */
export const mediaEnvSchema = subgraphEnvSchema('media');

/** Media's own variables: which browser origins may call /media (the same rule as the gateway's). */
const mediaCorsEnvSchema = z.object({ NODE_ENV: nodeEnvSchema, ...corsEnvShape });

/** Parses process.env once at start; every problem is reported and the process exits non-zero. */
export function loadEnv(): { env: SubgraphEnv; cors: CorsSettings } {
  return { env: parseEnvOrExit(mediaEnvSchema, process.env), cors: corsSettingsOf(parseEnvOrExit(mediaCorsEnvSchema, process.env)) };
}
