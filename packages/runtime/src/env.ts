import { z } from 'zod';

/** The development secret named in the contract; refused when NODE_ENV=production. */
export const DEFAULT_JWT_SECRET = 'dev-only-secret-change-me';

export const nodeEnvSchema = z.enum(['development', 'production', 'test']).default('development');
export const logLevelSchema = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info');
export const portSchema = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);

/** Variables every process shares: auth, logging, environment. */
export const authEnvShape = {
  NODE_ENV: nodeEnvSchema,
  LOG_LEVEL: logLevelSchema,
  AUTH_JWT_SECRET: z.string().min(16, 'must be at least 16 characters').default(DEFAULT_JWT_SECRET),
  AUTH_JWKS_URL: z.string().url().optional(),
  /** With AUTH_JWKS_URL: the `iss` an RS256 token must carry. */
  AUTH_JWT_ISSUER: z.string().min(1).optional(),
  /** With AUTH_JWKS_URL: the `aud` an RS256 token must carry. */
  AUTH_JWT_AUDIENCE: z.string().min(1).optional(),
  /** Verified tokens remembered per process (0: verify every request; auth.ts VerifiedTokenCache). */
  AUTH_TOKEN_CACHE_SIZE: z.coerce.number().int().min(0).optional(),
};

/** Refuse the default secret in production: a shared default would let anyone mint admin tokens. */
export function refuseDefaultSecretInProduction<T extends { NODE_ENV: string; AUTH_JWT_SECRET: string; AUTH_JWKS_URL?: string }>(
  schema: z.ZodType<T, z.ZodTypeDef, unknown>,
) {
  return schema.superRefine((env, ctx) => {
    if (env.NODE_ENV === 'production' && env.AUTH_JWT_SECRET === DEFAULT_JWT_SECRET && !env.AUTH_JWKS_URL) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['AUTH_JWT_SECRET'],
        message: 'the development default secret cannot be used with NODE_ENV=production',
      });
    }
  });
}

export class EnvError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid environment:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'EnvError';
  }
}

/** Parses an environment with a zod schema, reporting every problem at once. An empty variable counts as unset. */
export function parseEnv<T>(schema: z.ZodType<T, z.ZodTypeDef, unknown>, source: NodeJS.ProcessEnv): T {
  const set = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== undefined && value !== ''));
  const result = schema.safeParse(set);
  if (result.success) return result.data;
  throw new EnvError(result.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`));
}

/** For `main` entry points: print every problem and exit non-zero. */
export function parseEnvOrExit<T>(schema: z.ZodType<T, z.ZodTypeDef, unknown>, source: NodeJS.ProcessEnv): T {
  return orExitOnEnvError(() => parseEnv(schema, source));
}

/** For `main` entry points whose environment has several parts: run the parser; on an EnvError print every problem and exit non-zero. */
export function orExitOnEnvError<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof EnvError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

/**
 * The problems of an environment parsed in parts (the shared subgraph variables, a process's own, a file they
 * name), so that one EnvError reports them all at once.
 */
export class EnvProblems {
  readonly problems: string[] = [];

  /** The part's value, or undefined when it has problems (kept for `throwIfAny`). */
  attempt<T>(parse: () => T): T | undefined {
    try {
      return parse();
    } catch (error) {
      if (!(error instanceof EnvError)) throw error;
      this.problems.push(...error.problems);
      return undefined;
    }
  }

  add(...problems: string[]): void {
    this.problems.push(...problems);
  }

  throwIfAny(): void {
    if (this.problems.length) throw new EnvError(this.problems);
  }
}
