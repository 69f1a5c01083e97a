import { resolve } from 'node:path';
import { corsEnvShape, corsSettingsOf, nodeEnvSchema, parseEnvOrExit, subgraphEnvSchema, type CorsSettings, type SubgraphEnv } from '@tiergraph/runtime';
import { z } from 'zod';
import { DEFAULT_MEDIA_SETTINGS, type MediaSettings } from './domain/settings';

/** The media process's environment: the shared subgraph variables (README, Configuration). */
export const mediaEnvSchema = subgraphEnvSchema('media');

/** Media's own variables: which browser origins may call /media (the same rule as the gateway's). */
const mediaCorsEnvSchema = z.object({ NODE_ENV: nodeEnvSchema, ...corsEnvShape });

const MiB = 1024 * 1024;

/** Where files live and what an upload may be (README, Configuration: the media rows). */
export const mediaStorageEnvSchema = z
  .object({
    /** The data folder of `pnpm start`; media files go to `<DATA_DIR>/media` unless MEDIA_ROOT says otherwise. */
    DATA_DIR: z.string().default('.data'),
    MEDIA_ROOT: z.string().optional(),
    MEDIA_MAX_UPLOAD_MB: z.coerce.number().positive().max(1024).default(DEFAULT_MEDIA_SETTINGS.maxUploadBytes / MiB),
    MEDIA_MAX_PIXELS: z.coerce.number().int().min(1).max(268_402_689).default(DEFAULT_MEDIA_SETTINGS.maxInputPixels),
    MEDIA_PUBLIC_URL: z
      .string()
      .url()
      .refine((url) => !url.endsWith('/'), 'must not end with /')
      .optional(),
    MEDIA_ORPHAN_GRACE_MS: z.coerce.number().int().min(0).default(DEFAULT_MEDIA_SETTINGS.orphanGraceMs),
    MEDIA_SWEEP_INTERVAL_MS: z.coerce.number().int().min(0).default(DEFAULT_MEDIA_SETTINGS.sweepIntervalMs),
  })
  .transform(
    (env): MediaSettings => ({
      root: resolve(env.MEDIA_ROOT ?? resolve(env.DATA_DIR, 'media')),
      maxUploadBytes: Math.floor(env.MEDIA_MAX_UPLOAD_MB * MiB),
      maxInputPixels: env.MEDIA_MAX_PIXELS,
      publicUrl: env.MEDIA_PUBLIC_URL,
      orphanGraceMs: env.MEDIA_ORPHAN_GRACE_MS,
      sweepIntervalMs: env.MEDIA_SWEEP_INTERVAL_MS,
    }),
  );

/** Parses process.env once at start; every problem is reported and the process exits non-zero. */
export function loadEnv(): { env: SubgraphEnv; cors: CorsSettings; storage: MediaSettings } {
  const env = parseEnvOrExit(mediaEnvSchema, process.env);
  const storage = parseEnvOrExit(mediaStorageEnvSchema, process.env);
  return {
    env,
    cors: corsSettingsOf(parseEnvOrExit(mediaCorsEnvSchema, process.env)),
    // file URLs point at this process unless a CDN or proxy in front says otherwise
    storage: { ...storage, publicUrl: storage.publicUrl ?? `http://localhost:${env.PORT}` },
  };
}
