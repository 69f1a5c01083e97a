import { AppError, DatabaseUnavailableError, isClientErrorCode, isDatabaseUnavailable, type Logger } from '@tiergraph/runtime';
import type { Response } from 'express';

/** The HTTP status of each contract code a media route answers with. */
const STATUS_OF_CODE: Record<string, number> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  BAD_USER_INPUT: 400,
  FEATURE_LIMIT_REACHED: 403,
  SUBSCRIPTION_INACTIVE: 403,
  ENTITLEMENTS_UNAVAILABLE: 503,
  TENANCY_UNAVAILABLE: 503,
};

/** A refusal of a media route in one shape: `{ "error": { "code", "message", …extensions } }`, status by code. */
export function sendError(res: Response, error: unknown, logger: Logger, requestId: string): void {
  if (res.headersSent) return;
  if (isDatabaseUnavailable(error) && !(error instanceof AppError)) {
    logger.warn({ err: error, requestId }, 'the database is unavailable');
    return sendError(res, new DatabaseUnavailableError(), logger, requestId);
  }
  if (error instanceof AppError && isClientErrorCode(error.extensions.code)) {
    const { http, ...extensions } = error.extensions as { http?: { status?: number }; code: string };
    res.status(http?.status ?? STATUS_OF_CODE[extensions.code] ?? 400).json({ error: { ...extensions, message: error.message } });
    return;
  }
  logger.error({ err: error, requestId }, 'internal error in a media route');
  res.status(500).json({ error: { code: 'INTERNAL_SERVER_ERROR', message: 'Internal server error', requestId } });
}

/** BAD_USER_INPUT with an HTTP status of its own (413 for a body past the limit, 415 for a body that is no form). */
export class UploadRefusedError extends AppError {
  constructor(message: string, field: string, httpStatus: number, extensions: Record<string, unknown> = {}) {
    super(message, 'BAD_USER_INPUT', { field, ...extensions }, httpStatus);
  }
}
