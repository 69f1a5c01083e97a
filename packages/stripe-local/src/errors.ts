/** Stripe's error body: `{ "error": { type, code?, message, param?, doc_url? } }`. */
export interface StripeErrorBody {
  error: {
    type: 'invalid_request_error' | 'idempotency_error' | 'api_error' | 'card_error';
    code?: string;
    message: string;
    param?: string;
    doc_url?: string;
  };
}

/** Thrown by handlers; the server turns it into Stripe's error shape with its status. */
export class StripeApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: StripeErrorBody['error'],
  ) {
    super(body.message);
    this.name = 'StripeApiError';
  }

  toJSON(): StripeErrorBody {
    return { error: this.body };
  }
}

const docUrl = (code: string) => `https://stripe.com/docs/error-codes/${code.replace(/_/g, '-')}`;

/** 404 for an id in the path, 400 for an id given as a parameter (as Stripe answers). */
export function resourceMissing(kind: string, id: string, param = 'id'): StripeApiError {
  return new StripeApiError(param === 'id' ? 404 : 400, {
    type: 'invalid_request_error',
    code: 'resource_missing',
    message: `No such ${kind}: '${id}'`,
    param,
    doc_url: docUrl('resource_missing'),
  });
}

/** Stripe's answer to a preview for a subscription that will not invoice again (canceled or cancelling). */
export function noUpcomingInvoice(customerId: string): StripeApiError {
  return new StripeApiError(404, {
    type: 'invalid_request_error',
    code: 'invoice_upcoming_none',
    message: `No upcoming invoices for customer: ${customerId}`,
    doc_url: docUrl('invoice_upcoming_none'),
  });
}

export function parameterMissing(param: string): StripeApiError {
  return new StripeApiError(400, {
    type: 'invalid_request_error',
    code: 'parameter_missing',
    message: `Missing required param: ${param}.`,
    param,
    doc_url: docUrl('parameter_missing'),
  });
}

export function invalidParameter(param: string, message: string, code?: string): StripeApiError {
  return new StripeApiError(400, {
    type: 'invalid_request_error',
    ...(code ? { code, doc_url: docUrl(code) } : {}),
    message,
    param,
  });
}

export function invalidRequest(message: string, code?: string): StripeApiError {
  return new StripeApiError(400, {
    type: 'invalid_request_error',
    ...(code ? { code, doc_url: docUrl(code) } : {}),
    message,
  });
}
