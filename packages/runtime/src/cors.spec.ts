import { corsEnvShape, corsSettingsOf, DEVELOPMENT_CORS_ORIGINS, isOriginPattern, originMatcher } from './cors';
import { EnvError, nodeEnvSchema, parseEnv } from './env';
import { z } from 'zod';

describe('originMatcher', () => {
  const allowed = originMatcher(['https://app.example.com', 'http://localhost:*', 'http://127.0.0.1:3000', 'http://[::1]:*']);

  it('allows an exact origin, case-insensitively, and nothing that merely starts or ends like it', () => {
    expect(allowed('https://app.example.com')).toBe(true);
    expect(allowed('HTTPS://App.Example.com')).toBe(true);
    expect(allowed('http://app.example.com')).toBe(false);
    expect(allowed('https://app.example.com:8443')).toBe(false);
    expect(allowed('https://app.example.com.evil.test')).toBe(false);
    expect(allowed('https://evilapp.example.com')).toBe(false);
    expect(allowed('https://app.example.com/')).toBe(false);
  });

  it('lets * stand for any port (or none), and only for the port', () => {
    expect(allowed('http://localhost:3000')).toBe(true);
    expect(allowed('http://localhost:5173')).toBe(true);
    expect(allowed('http://localhost')).toBe(true);
    expect(allowed('http://[::1]:8080')).toBe(true);
    expect(allowed('https://localhost:3000')).toBe(false);
    expect(allowed('http://localhost.evil.test:3000')).toBe(false);
    expect(allowed('http://localhost:*')).toBe(false);
  });

  it('allows a fixed port only on that port', () => {
    expect(allowed('http://127.0.0.1:3000')).toBe(true);
    expect(allowed('http://127.0.0.1:3001')).toBe(false);
    expect(allowed('http://127.0.0.1')).toBe(false);
  });

  it('refuses what is not an origin: null (sandboxed pages, file://), empty, with a path', () => {
    expect(allowed('null')).toBe(false);
    expect(allowed('')).toBe(false);
    expect(allowed('http://localhost:3000/app')).toBe(false);
  });

  it('allows nothing with an empty list', () => {
    expect(originMatcher([])('http://localhost:3000')).toBe(false);
  });

  it('refuses patterns that are not origins', () => {
    for (const pattern of ['*', 'https://*.example.com', 'app.example.com', 'https://app.example.com/', 'ftp://x.test', 'http://localhost:3*']) {
      expect(isOriginPattern(pattern)).toBe(false);
    }
    expect(() => originMatcher(['*'])).toThrow('not an origin pattern: *');
  });
});

describe('CORS_ORIGINS and CORS_CREDENTIALS', () => {
  const schema = z.object({ NODE_ENV: nodeEnvSchema, ...corsEnvShape });
  const settings = (env: Record<string, string>) => corsSettingsOf(parseEnv(schema, env));

  it('defaults to local frontends on any port in development (and tests), to none in production, without credentials', () => {
    expect(settings({})).toEqual({ origins: DEVELOPMENT_CORS_ORIGINS, credentials: false });
    expect(settings({ NODE_ENV: 'test' }).origins).toEqual(['http://localhost:*', 'http://127.0.0.1:*']);
    expect(settings({ NODE_ENV: 'production' })).toEqual({ origins: [], credentials: false });
    expect(settings({ NODE_ENV: 'production', CORS_ORIGINS: '' })).toEqual({ origins: [], credentials: false });
  });

  it('parses a comma-separated list (spaces allowed) and the credentials flag', () => {
    expect(settings({ NODE_ENV: 'production', CORS_ORIGINS: 'https://app.example.com, https://admin.example.com', CORS_CREDENTIALS: 'true' })).toEqual({
      origins: ['https://app.example.com', 'https://admin.example.com'],
      credentials: true,
    });
  });

  it('reports every entry that is not an origin, by name', () => {
    const parse = () => parseEnv(schema, { CORS_ORIGINS: 'https://ok.example.com,*,https://app.example.com/', CORS_CREDENTIALS: 'yes' });
    expect(parse).toThrow(EnvError);
    try {
      parse();
    } catch (error) {
      expect((error as EnvError).problems).toEqual([
        'CORS_ORIGINS: "*" is not an origin: scheme://host or scheme://host:port, no path, * only as the port',
        'CORS_ORIGINS: "https://app.example.com/" is not an origin: scheme://host or scheme://host:port, no path, * only as the port',
        "CORS_CREDENTIALS: Invalid enum value. Expected 'true' | 'false', received 'yes'",
      ]);
    }
  });
});
