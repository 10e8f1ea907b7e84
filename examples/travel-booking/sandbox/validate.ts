import {
  REFERENCE_PATTERN,
  type ResourceKind,
  type ReserveRequest,
  type TermsByKind,
  type TravelErrorBody,
} from './types.js';

/** A request the service refuses with 400 `invalid_request`, naming the field at fault (if one is). */
export class InvalidRequestError extends Error {
  constructor(
    message: string,
    readonly param?: string,
  ) {
    super(message);
  }

  /** The JSON body of the 400 answer. */
  toBody(): TravelErrorBody {
    return {
      error: {
        type: 'invalid_request',
        message: this.message,
        ...(this.param === undefined ? {} : { param: this.param }),
      },
    };
  }
}

/** Checks one field; returns what is wrong with it, or undefined when it is fine. */
type Check = (value: unknown) => string | undefined;

const MAX_TEXT = 200;

const text: Check = (v) =>
  typeof v !== 'string' || v.trim() === ''
    ? 'must be a non-empty string'
    : v.length > MAX_TEXT
      ? `must be at most ${MAX_TEXT} characters`
      : undefined;

const iata: Check = (v) =>
  typeof v === 'string' && /^[A-Z]{3}$/.test(v)
    ? undefined
    : 'must be a 3-letter upper-case IATA airport code';

const date: Check = (v) => {
  const ok =
    typeof v === 'string' &&
    /^\d{4}-\d{2}-\d{2}$/.test(v) &&
    !Number.isNaN(Date.parse(`${v}T00:00:00Z`)) &&
    new Date(`${v}T00:00:00Z`).toISOString().startsWith(v);
  return ok ? undefined : 'must be a calendar date as YYYY-MM-DD';
};

const cents: Check = (v) =>
  typeof v === 'number' && Number.isSafeInteger(v) && v > 0
    ? undefined
    : 'must be a positive integer (minor units)';

const currency: Check = (v) =>
  typeof v === 'string' && /^[A-Z]{3}$/.test(v) ? undefined : 'must be a 3-letter upper-case ISO 4217 code';

/** The fields of each kind, in the order they are checked and stored. */
const FIELDS: { [K in ResourceKind]: Record<keyof TermsByKind[K], Check> } = {
  flights: { from: iata, to: iata, date, passenger: text, price_cents: cents, currency },
  hotels: { city: text, check_in: date, check_out: date, guest: text, price_cents: cents, currency },
  cars: { city: text, pick_up: date, drop_off: date, driver: text, price_cents: cents, currency },
};

/** Checks that span two fields: `[field named in the error, message, holds]`. */
function crossChecks(kind: ResourceKind, b: Record<string, unknown>): [string, string, boolean][] {
  switch (kind) {
    case 'flights':
      return [['to', 'must differ from from', b.to !== b.from]];
    case 'hotels':
      return [['check_out', 'must be after check_in', String(b.check_out) > String(b.check_in)]];
    case 'cars':
      return [['drop_off', 'must not be before pick_up', String(b.drop_off) >= String(b.pick_up)]];
  }
}

/**
 * Validates the body of `POST /v1/{kind}/reservations` strictly: a JSON object with a valid `reference`,
 * every term of the kind and no other field. Returns a fresh object with the fields in a fixed order.
 * Throws {@link InvalidRequestError} naming the first field at fault.
 */
export function validateReserveRequest<K extends ResourceKind>(kind: K, body: unknown): ReserveRequest<K> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidRequestError('the body must be a JSON object');
  }
  const b = body as Record<string, unknown>;
  const fields = FIELDS[kind] as Record<string, Check>;
  if (typeof b.reference !== 'string' || !REFERENCE_PATTERN.test(b.reference)) {
    throw new InvalidRequestError(
      'reference is required: 1 to 64 characters of A-Z, a-z, 0-9, _ and -',
      'reference',
    );
  }
  const unknown = Object.keys(b).find((key) => key !== 'reference' && !(key in fields));
  if (unknown !== undefined) throw new InvalidRequestError(`unknown field ${unknown}`, unknown);
  const out: Record<string, unknown> = { reference: b.reference };
  for (const [field, check] of Object.entries(fields)) {
    if (b[field] === undefined) throw new InvalidRequestError(`${field} is required`, field);
    const problem = check(b[field]);
    if (problem !== undefined) throw new InvalidRequestError(`${field} ${problem}`, field);
    out[field] = b[field];
  }
  for (const [field, message, holds] of crossChecks(kind, b)) {
    if (!holds) throw new InvalidRequestError(`${field} ${message}`, field);
  }
  return out as unknown as ReserveRequest<K>;
}

/** The terms of a validated request (everything but the reference), for comparing two requests. */
export function termsOf(kind: ResourceKind, request: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.keys(FIELDS[kind]).map((field) => [field, request[field]]));
}

/** Whether two sets of terms of the same kind are identical. */
export function sameTerms(kind: ResourceKind, a: Record<string, unknown>, b: Record<string, unknown>) {
  return Object.keys(FIELDS[kind]).every((field) => a[field] === b[field]);
}
