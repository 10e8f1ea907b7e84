/** The `error` object of a Stripe error answer (spec schema `api_errors`). */
export interface StripeErrorBody {
  type: 'api_error' | 'card_error' | 'idempotency_error' | 'invalid_request_error';
  message: string;
  code?: string;
  decline_code?: string;
  param?: string;
  doc_url?: string;
  charge?: string;
  payment_intent?: unknown;
}

/**
 * A Stripe error: HTTP status plus the `error` object the SDK turns into its error classes.
 * `saveUnderKey`: the request began executing, so Stripe stores this answer under its Idempotency-Key
 * and replays it; validation failures are not stored and leave the key free for a corrected retry.
 */
export class StripeFailure extends Error {
  readonly error: StripeErrorBody;

  constructor(
    readonly status: number,
    error: StripeErrorBody,
    readonly saveUnderKey = false,
  ) {
    super(error.message);
    this.error = withDocUrl(error);
  }
}

/** Stripe links every coded error to its page, code spelled with hyphens: `resource-missing`. */
export function withDocUrl(error: StripeErrorBody): StripeErrorBody {
  if (!error.code || error.doc_url) return error;
  return { ...error, doc_url: `https://stripe.com/docs/error-codes/${error.code.replace(/_/g, '-')}` };
}

/** A 400 `invalid_request_error` about one parameter. */
export function invalid(message: string, param?: string, code?: string): StripeFailure {
  return new StripeFailure(400, {
    type: 'invalid_request_error',
    message,
    ...(code ? { code } : {}),
    ...(param ? { param } : {}),
  });
}

/**
 * `resource_missing`. For an id in the path Stripe answers 404 and names the path parameter (`intent`
 * for payment intents, `id` for most others); for an id passed as a parameter, 400 naming that parameter.
 */
export function missing(
  kind: string,
  value: string | undefined,
  param: string,
  where: 'path' | 'param',
): StripeFailure {
  return new StripeFailure(where === 'path' ? 404 : 400, {
    type: 'invalid_request_error',
    code: 'resource_missing',
    param,
    message: `No such ${kind}: '${value ?? ''}'`,
  });
}
