import { resolve } from 'node:path';
import { corsEnvShape, corsSettingsOf, EnvError, EnvProblems, nodeEnvSchema, orExitOnEnvError, parseEnv, subgraphEnvSchema, type CorsSettings, type SubgraphEnv } from '@tiergraph/runtime';
import { z } from 'zod';
import { DEFAULT_MEDIA_SETTINGS, type MediaSettings } from './domain/settings';

/** The media process's environment: the shared subgraph variables (README, Configuration). */
export const mediaEnvSchema = subgraphEnvSchema('media');

const MiB = 1024 * 1024;

/**
 * Media's own variables (README, Configuration: the media rows): which browser origins may call /media (the same
 * rule as the gateway's), where files live and what an upload may be.
 */
export const mediaOwnEnvSchema = z.object({
  NODE_ENV: nodeEnvSchema,
  ...corsEnvShape,
  /** The data folder of `pnpm start`; media files go to `<DATA_DIR>/media` unless MEDIA_ROOT says otherwise. */
  DATA_DIR: z.string().default('.data'),
  MEDIA_ROOT: z.string().optional(),
  MEDIA_MAX_UPLOAD_MB: z.coerce.number().positive().max(1024).default(DEFAULT_MEDIA_SETTINGS.maxUploadBytes / MiB),
  // sharp's own ceiling (0x3FFF × 0x3FFF)
  MEDIA_MAX_PIXELS: z.coerce.number().int().min(1).max(268_402_689).default(DEFAULT_MEDIA_SETTINGS.maxInputPixels),
  MEDIA_PUBLIC_URL: z
    .string()
    .url()
    .refine((url) => /^https?:\/\//.test(url) && !url.endsWith('/'), 'must be an http(s) URL without a trailing /')
    .optional(),
  MEDIA_ORPHAN_GRACE_MS: z.coerce.number().int().min(0).default(DEFAULT_MEDIA_SETTINGS.orphanGraceMs),
  MEDIA_SWEEP_INTERVAL_MS: z.coerce.number().int().min(0).default(DEFAULT_MEDIA_SETTINGS.sweepIntervalMs),
});

export interface MediaEnv {
  env: SubgraphEnv;
  cors: CorsSettings;
  storage: MediaSettings;
}

/** Parses media's whole environment, every problem of both schemas reported in one EnvError. */
export function parseMediaEnv(source: NodeJS.ProcessEnv): MediaEnv {
  const problems = new EnvProblems();
  const env = problems.attempt(() => parseEnv(mediaEnvSchema, source));
  const own = problems.attempt(() => parseEnv(mediaOwnEnvSchema, source));
  problems.throwIfAny();
  if (!env || !own) throw new EnvError(problems.problems);
  return {
    env,
    cors: corsSettingsOf(own),
    storage: {
      root: resolve(own.MEDIA_ROOT ?? resolve(own.DATA_DIR, 'media')),
      maxUploadBytes: Math.floor(own.MEDIA_MAX_UPLOAD_MB * MiB),
      maxInputPixels: own.MEDIA_MAX_PIXELS,
      // file URLs point at this process unless a CDN or proxy in front says otherwise
      publicUrl: own.MEDIA_PUBLIC_URL ?? `http://localhost:${env.PORT}`,
      orphanGraceMs: own.MEDIA_ORPHAN_GRACE_MS,
      sweepIntervalMs: own.MEDIA_SWEEP_INTERVAL_MS,
    },
  };
}

/** Parses process.env once at start; every problem is reported and the process exits non-zero. */
export function loadEnv(): MediaEnv {
  return orExitOnEnvError(() => parseMediaEnv(process.env));
}
