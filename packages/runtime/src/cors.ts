import cors from 'cors';
import type { RequestHandler } from 'express';
import { z } from 'zod';

/**
 * Cross-origin calls from browser frontends (a storefront or dashboard served from its own origin), for every
 * process that browsers reach: the gateway's /graphql and media's /media routes. The origin rule lives here only.
 *
 * An allowed origin is `scheme://host` or `scheme://host:port`, where the port may be `*` (any port, or none).
 */
const ORIGIN_PATTERN = /^(https?):\/\/([a-z0-9.-]+|\[[0-9a-f:.]+\])(?::(\d{1,5}|\*))?$/i;

interface OriginParts {
  scheme: string;
  host: string;
  /** undefined when the origin has no port; '*' in a pattern: any port. */
  port?: string;
}

function partsOf(text: string): OriginParts | undefined {
  const match = ORIGIN_PATTERN.exec(text);
  if (!match) return undefined;
  return { scheme: match[1].toLowerCase(), host: match[2].toLowerCase(), port: match[3] };
}

/** Whether `text` is a valid allowlist entry (`*` only in the port). */
export function isOriginPattern(text: string): boolean {
  return partsOf(text) !== undefined;
}

/** A predicate over the `Origin` header: true only for an origin one of the patterns allows. */
export function originMatcher(patterns: readonly string[]): (origin: string) => boolean {
  const allowed = patterns.map((pattern) => {
    const parts = partsOf(pattern);
    if (!parts) throw new Error(`not an origin pattern: ${pattern}`);
    return parts;
  });
  return (origin) => {
    const parts = partsOf(origin);
    if (!parts || parts.port === '*') return false;
    return allowed.some(
      (pattern) => pattern.scheme === parts.scheme && pattern.host === parts.host && (pattern.port === '*' || pattern.port === parts.port),
    );
  };
}

/** Development default of CORS_ORIGINS: a frontend on any local port. Production has no default. */
export const DEVELOPMENT_CORS_ORIGINS: readonly string[] = ['http://localhost:*', 'http://127.0.0.1:*'];

/** How long a browser may reuse a preflight answer (Chromium caps it at 2 hours). */
export const CORS_PREFLIGHT_MAX_AGE_SECONDS = 7200;

/**
 * The request headers frontends may send: the bearer token and the JSON body, our request id (tracing), and the
 * two headers Apollo's CSRF prevention accepts instead of a JSON content type (GET queries, multipart uploads).
 */
export const CORS_ALLOWED_HEADERS: readonly string[] = [
  'authorization',
  'content-type',
  'x-request-id',
  'apollo-require-preflight',
  'x-apollo-operation-name',
];

export interface CorsSettings {
  /** Allowed origin patterns; empty: no cross-origin browser calls. */
  origins: readonly string[];
  /** Whether browsers may send cookies (`Access-Control-Allow-Credentials: true`); bearer tokens do not need it. */
  credentials: boolean;
}

/** What an unset CORS_ORIGINS gives outside production. */
export const DEVELOPMENT_CORS: CorsSettings = { origins: DEVELOPMENT_CORS_ORIGINS, credentials: false };

/** CORS_ORIGINS and CORS_CREDENTIALS, for the env.ts of every process that browsers call. */
export const corsEnvShape = {
  /** Comma-separated allowed origins, e.g. `https://app.example.com,http://localhost:*`; unset: see corsSettingsOf. */
  CORS_ORIGINS: z
    .string()
    .transform((list) => list.split(',').map((entry) => entry.trim()).filter(Boolean))
    .superRefine((origins, ctx) => {
      for (const origin of origins.filter((o) => !isOriginPattern(o))) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          message: `"${origin}" is not an origin: scheme://host or scheme://host:port, no path, * only as the port`,
        });
      }
    })
    .optional(),
  CORS_CREDENTIALS: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
};

/** The settings a parsed environment asks for; without CORS_ORIGINS: local frontends in development, none in production. */
export function corsSettingsOf(env: { NODE_ENV: string; CORS_ORIGINS?: string[]; CORS_CREDENTIALS: boolean }): CorsSettings {
  return {
    origins: env.CORS_ORIGINS ?? (env.NODE_ENV === 'production' ? [] : DEVELOPMENT_CORS_ORIGINS),
    credentials: env.CORS_CREDENTIALS,
  };
}

/**
 * Express middleware (the `cors` package): an allowed origin gets its origin echoed, the allowed headers and a
 * preflight answered 204 with a max-age; any other origin gets no CORS headers, so the browser refuses to hand
 * the answer to the page. Requests without an Origin (servers, curl) pass unchanged.
 */
export function corsMiddleware(settings: CorsSettings): RequestHandler {
  const allowed = originMatcher(settings.origins);
  const handle = cors({
    origin: (origin, callback) => callback(null, origin !== undefined && allowed(origin)),
    methods: ['GET', 'POST'],
    allowedHeaders: [...CORS_ALLOWED_HEADERS],
    exposedHeaders: ['x-request-id'],
    credentials: settings.credentials,
    maxAge: CORS_PREFLIGHT_MAX_AGE_SECONDS,
    optionsSuccessStatus: 204,
  });
  return (req, res, next) => {
    // every answer depends on the Origin, also those without CORS headers: shared caches must key on it
    res.vary('Origin');
    handle(req, res, (error?: unknown) => {
      if (error) return next(error);
      // A preflight from an origin that is not allowed ends here too, without CORS headers: the browser then
      // reports a missing Access-Control-Allow-Origin rather than whatever the route would answer to OPTIONS.
      if (req.method === 'OPTIONS') return void res.status(204).end();
      next();
    });
  };
}
