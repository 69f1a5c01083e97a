import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import type { z } from 'zod';

/**
 * The one table of error codes (contract/README.md): every code anything here answers with, and whether a client sees
 * it. The client-visible set is derived from it, and AppError takes only these codes, so a new code cannot be thrown
 * without being listed (a code not listed as visible would be masked as INTERNAL_SERVER_ERROR).
 */
const ERROR_CODES = {
  // the contract's own
  UNAUTHENTICATED: 'visible',
  FORBIDDEN: 'visible',
  NOT_FOUND: 'visible',
  BAD_USER_INPUT: 'visible',
  FEATURE_LIMIT_REACHED: 'visible',
  FEATURE_NOT_AVAILABLE: 'visible',
  SUBSCRIPTION_INACTIVE: 'visible',
  PAYMENT_SYSTEM_NOT_CONFIGURED: 'visible',
  /** A subgraph did not answer in time or could not be reached (gateway): `extensions.serviceName`, `reason`. */
  SUBGRAPH_UNAVAILABLE: 'visible',
  // billing and Stripe
  TIER_NOT_FOUND: 'visible',
  STRIPE_PRICE_NOT_CONFIGURED: 'visible',
  NO_ACTIVE_SUBSCRIPTION: 'visible',
  SUBSCRIPTION_NOT_CANCELLED: 'visible',
  PAYMENT_PROVIDER_ERROR: 'visible',
  PAYMENT_PROVIDER_UNAVAILABLE: 'visible',
  // an internal call another subgraph needs failed: creation fails closed
  ENTITLEMENTS_UNAVAILABLE: 'visible',
  CATALOG_UNAVAILABLE: 'visible',
  TENANCY_UNAVAILABLE: 'visible',
  /** Monitoring could not gather the platform's figures through the graph: nothing was written. */
  PLATFORM_FIGURES_UNAVAILABLE: 'visible',
  /** A job could not reach monitoring (CAPTURE_CAPACITY_SNAPSHOT). */
  MONITORING_UNAVAILABLE: 'visible',
  /**
   * PostgreSQL could not be reached or dropped the connection (down, restarting, shutting down: isDatabaseUnavailable),
   * `extensions.retryable: true`: the same request may succeed a moment later. Not in the contract's table (which may
   * grow); the README lists it.
   */
  DATABASE_UNAVAILABLE: 'visible',
  // Apollo Server's refusals of a request
  GRAPHQL_PARSE_FAILED: 'visible',
  GRAPHQL_VALIDATION_FAILED: 'visible',
  BAD_REQUEST: 'visible',
  PERSISTED_QUERY_NOT_FOUND: 'visible',
  PERSISTED_QUERY_NOT_SUPPORTED: 'visible',
  OPERATION_RESOLUTION_FAILURE: 'visible',
  /** What everything else becomes: no message detail, the request id. */
  INTERNAL_SERVER_ERROR: 'masked',
} as const satisfies Record<string, 'visible' | 'masked'>;

export type ErrorCode = keyof typeof ERROR_CODES;
/** The codes by name (ErrorCode.NOT_FOUND === 'NOT_FOUND'). */
export const ErrorCode = Object.fromEntries(Object.keys(ERROR_CODES).map((code) => [code, code])) as { readonly [C in ErrorCode]: C };

const CLIENT_CODES: ReadonlySet<string> = new Set(Object.entries(ERROR_CODES).flatMap(([code, seen]) => (seen === 'visible' ? [code] : [])));

/** Base of every error a client may see; anything else is masked as INTERNAL_SERVER_ERROR. */
export class AppError extends GraphQLError {
  constructor(message: string, code: ErrorCode, extensions: Record<string, unknown> = {}, httpStatus?: number) {
    super(message, { extensions: { code, ...extensions, ...(httpStatus ? { http: { status: httpStatus } } : {}) } });
    this.name = 'AppError';
  }
}

export class UnauthenticatedError extends AppError {
  constructor(message = 'authentication required') {
    super(message, ErrorCode.UNAUTHENTICATED, {}, 401);
  }
}

export class ForbiddenError extends AppError {
  constructor(message = 'not allowed') {
    super(message, ErrorCode.FORBIDDEN);
  }
}

/** An id as errors show it: a client's 90 KB "id" is not echoed back whole. */
const shownId = (id: string) => (id.length > 64 ? `${id.slice(0, 64)}…` : id);

export class NotFoundError extends AppError {
  constructor(entity: string, id: string) {
    super(`${entity} ${shownId(id)} not found`, ErrorCode.NOT_FOUND, { entity, id: shownId(id) });
  }
}

export class BadUserInputError extends AppError {
  constructor(message: string, field: string) {
    super(message, ErrorCode.BAD_USER_INPUT, { field });
  }
}


/**
 * SQLSTATEs of a server that is not there for the moment: 57P01 admin_shutdown (a fast stop or restart), 57P02
 * crash_shutdown, 57P03 cannot_connect_now (starting up, shutting down, in recovery), 57P05 idle_session_timeout,
 * 53300 too_many_connections, and class 08 (connection exception) by name. Not 08P01 protocol_violation: PostgreSQL
 * raises it for a bind message with the wrong number of parameters, a bug in a statement, never worth a retry.
 */
const UNAVAILABLE_SQLSTATES: ReadonlySet<string> = new Set(['57P01', '57P02', '57P03', '57P05', '53300', '08000', '08001', '08003', '08004', '08006', '08007']);
/**
 * Socket errors of the database connection (pg throws them as they come, even as plain objects). Every other network
 * call a resolver makes wraps its failure in a coded error of its own (InternalCallError → *_UNAVAILABLE, Stripe →
 * PAYMENT_PROVIDER_UNAVAILABLE), so a bare socket error that reaches formatError is the database's.
 */
const UNAVAILABLE_SOCKET_CODES: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/** node-postgres's own words when the socket goes or a pool cannot connect (they carry no SQLSTATE). */
const UNAVAILABLE_DRIVER_MESSAGES = [/^Connection terminated/, /^timeout exceeded when trying to connect/, /^Client has encountered a connection error/];
/**
 * TypeORM's errors when a transaction's connection was dropped under it and the transaction goes on (by name). The
 * same error follows a missing `await` on a transaction's manager, a bug that would then read as retryable; the
 * PostgreSQL restart test meets the first case, so the name stays.
 */
const UNAVAILABLE_TYPEORM_ERRORS: ReadonlySet<string> = new Set(['QueryRunnerAlreadyReleasedError', 'QueryRunnerProviderAlreadyReleasedError']);

/**
 * Whether an error (or what it wraps: GraphQL's originalError, TypeORM's driverError, a cause, an AggregateError's
 * errors, graphql-js's thrownValue when what was thrown is no Error — pg's connect failure is a plain object) says the database cannot be reached rather than that a statement was wrong: connection refused, the
 * server shutting down or starting up, a connection exception, a connection that ended under a query.
 */
export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (!error || typeof error !== 'object' || depth > 5) return false;
  const e = error as { code?: unknown; message?: unknown; originalError?: unknown; driverError?: unknown; cause?: unknown; errors?: unknown; thrownValue?: unknown };
  if (typeof e.code === 'string' && (UNAVAILABLE_SOCKET_CODES.has(e.code) || UNAVAILABLE_SQLSTATES.has(e.code))) return true;
  if (typeof e.message === 'string' && UNAVAILABLE_DRIVER_MESSAGES.some((pattern) => pattern.test(e.message as string))) return true;
  if (error instanceof Error && UNAVAILABLE_TYPEORM_ERRORS.has(error.name)) return true;
  const wrapped = [e.originalError, e.driverError, e.cause, e.thrownValue, ...(Array.isArray(e.errors) ? e.errors : [])];
  return wrapped.some((inner) => inner !== error && isDatabaseUnavailable(inner, depth + 1));
}

/** What a client gets when the database is unavailable (maskInternalError, REST routes): coded and retryable. */
export class DatabaseUnavailableError extends AppError {
  constructor() {
    super('the database is unavailable at the moment; retry the request', ErrorCode.DATABASE_UNAVAILABLE, { retryable: true }, 503);
  }
}

/** Whether an error code is one the contract lets a client see verbatim. */
export function isClientErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && CLIENT_CODES.has(code);
}

/**
 * Apollo `formatError`: client errors pass; a database that cannot be reached becomes DATABASE_UNAVAILABLE
 * (retryable); everything else becomes INTERNAL_SERVER_ERROR without message detail or stack, carrying the request
 * id that the log line also carries.
 */
export function maskInternalError(
  formatted: GraphQLFormattedError,
  requestId: string | undefined,
  log: (details: { requestId?: string; error: GraphQLFormattedError }) => void,
  error?: unknown,
): GraphQLFormattedError {
  const code = formatted.extensions?.code;
  // Apollo's own refusals of a request (a persisted query whose hash does not match, …) carry a 4xx and no code of
  // their own (Apollo then formats them as INTERNAL_SERVER_ERROR)
  const original = (error as { extensions?: { code?: unknown; http?: { status?: number } } } | undefined)?.extensions;
  const status = original?.http?.status;
  if (original && original.code === undefined && status !== undefined && status >= 400 && status < 500) {
    return { ...formatted, extensions: { ...formatted.extensions, code: 'BAD_REQUEST' } };
  }
  if (isClientErrorCode(code)) {
    const { stacktrace: _stack, ...extensions } = formatted.extensions ?? {};
    // graphql-js's variable coercion errors ("Variable "$input" got invalid value …") name the variable only in text
    const variable = code === ErrorCode.BAD_USER_INPUT && extensions.field === undefined ? /^Variable "\$([^"]+)"/.exec(formatted.message)?.[1] : undefined;
    return { ...formatted, extensions: variable ? { ...extensions, field: variable } : extensions };
  }
  log({ requestId, error: formatted });
  if (isDatabaseUnavailable(error)) {
    const unavailable = new DatabaseUnavailableError();
    const { http: _http, ...extensions } = unavailable.extensions;
    return { message: unavailable.message, locations: formatted.locations, path: formatted.path, extensions: { ...extensions, ...(requestId ? { requestId } : {}) } };
  }
  return {
    message: 'Internal server error',
    locations: formatted.locations,
    path: formatted.path,
    extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR, ...(requestId ? { requestId } : {}) },
  };
}

/** A PostgreSQL unique violation (23505), with its constraint name. */
export function uniqueViolation(error: unknown): string | undefined {
  const e = error as { code?: string; constraint?: string; driverError?: { code?: string; constraint?: string } };
  const driver = e?.driverError ?? e;
  return driver?.code === '23505' ? (driver.constraint ?? '') : undefined;
}

/**
 * Maps a unique violation to a BAD_USER_INPUT naming the field, by constraint name; rethrows anything else.
 * `byConstraint` maps constraint names to [field, message].
 */
export function rethrowUniqueViolation(error: unknown, byConstraint: Record<string, [field: string, message: string]>): never {
  const constraint = uniqueViolation(error);
  if (constraint !== undefined && byConstraint[constraint]) {
    const [field, message] = byConstraint[constraint];
    throw new BadUserInputError(message, field);
  }
  throw error;
}

/** Parses an input with zod; the first problem becomes BAD_USER_INPUT naming its field (`limits.2.featureCode`). */
export function parseInput<T extends z.ZodTypeAny>(schema: T, input: unknown): z.infer<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue.path.join('.') || 'input';
  throw new BadUserInputError(`${field} ${issue.message}`, field);
}
