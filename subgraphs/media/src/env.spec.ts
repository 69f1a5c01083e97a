import { resolve } from 'node:path';
import { EnvError } from '@tiergraph/runtime';
import { parseMediaEnv } from './env';

const base = { DATABASE_URL: 'postgres://u:p@localhost:5432/tiergraph' };

describe('media env', () => {
  it('puts files under <DATA_DIR>/media with the documented defaults and URLs on the media port', () => {
    const { storage, env } = parseMediaEnv({ ...base, MEDIA_PORT: '4015' });
    expect(env.PORT).toBe(4015);
    expect(storage).toEqual({
      root: resolve('.data', 'media'),
      maxUploadBytes: 20 * 1024 * 1024,
      maxInputPixels: 50_000_000,
      publicUrl: 'http://localhost:4015',
      orphanGraceMs: 600_000,
      sweepIntervalMs: 600_000,
    });
    expect(parseMediaEnv({ ...base, DATA_DIR: '/srv/tg' }).storage.root).toBe('/srv/tg/media');
  });

  it('takes MEDIA_ROOT, the limits and MEDIA_PUBLIC_URL as given', () => {
    const { storage } = parseMediaEnv({
      ...base,
      DATA_DIR: '/srv/tg',
      MEDIA_ROOT: '/var/lib/tiergraph/media',
      MEDIA_MAX_UPLOAD_MB: '2.5',
      MEDIA_MAX_PIXELS: '1000000',
      MEDIA_PUBLIC_URL: 'https://cdn.example.com',
      MEDIA_SWEEP_INTERVAL_MS: '0',
    });
    expect(storage).toMatchObject({
      root: '/var/lib/tiergraph/media',
      maxUploadBytes: 2.5 * 1024 * 1024,
      maxInputPixels: 1_000_000,
      publicUrl: 'https://cdn.example.com',
      sweepIntervalMs: 0,
    });
  });

  it('reports every problem of both schemas at once', () => {
    let caught: unknown;
    try {
      parseMediaEnv({ MEDIA_MAX_UPLOAD_MB: '-1', MEDIA_MAX_PIXELS: 'many', MEDIA_PUBLIC_URL: 'https://cdn.example.com/', CORS_ORIGINS: '*' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(EnvError);
    const fields = (caught as EnvError).problems.map((p) => p.split(':')[0]).sort();
    expect(fields).toEqual(['CORS_ORIGINS', 'DATABASE_URL', 'MEDIA_MAX_PIXELS', 'MEDIA_MAX_UPLOAD_MB', 'MEDIA_PUBLIC_URL']);
  });
});
