import type { ReservationStore } from './store.js';
import { InvalidRequestError, validateReserveRequest } from './validate.js';
import {
  REFERENCE_PATTERN,
  REPLAYED_HEADER,
  RESOURCE_KINDS,
  type ResourceKind,
  type TravelErrorBody,
  type TravelErrorType,
} from './types.js';

/** A matched route of the API. */
export type Route =
  | { name: 'collection'; kind: ResourceKind }
  | { name: 'item'; kind: ResourceKind; reference: string }
  | { name: 'cancel'; kind: ResourceKind; reference: string };

/** The methods each route answers (the `Allow` header of a 405). */
export const ALLOWED_METHODS: Record<Route['name'], readonly string[]> = {
  collection: ['GET', 'POST'],
  item: ['GET'],
  cancel: ['POST'],
};

/** A response to send: status, JSON body, extra headers. */
export interface Answer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

const ROUTE = /^\/v1\/([a-z]+)\/reservations(?:\/([^/]+)(\/cancel)?)?\/?$/;

/** Matches a path to a route; undefined for an unknown path (or an unknown resource kind). */
export function matchRoute(pathname: string): Route | undefined {
  const m = ROUTE.exec(pathname);
  const kind = m?.[1] as ResourceKind | undefined;
  if (!m || kind === undefined || !RESOURCE_KINDS.includes(kind)) return undefined;
  if (m[2] === undefined) return { name: 'collection', kind };
  let reference: string;
  try {
    reference = decodeURIComponent(m[2]);
  } catch {
    return undefined;
  }
  return { name: m[3] ? 'cancel' : 'item', kind, reference };
}

/** An error answer: `{ error: { type, message, ...extra } }`. */
export function errorAnswer(
  status: number,
  type: TravelErrorType,
  message: string,
  extra: Omit<TravelErrorBody['error'], 'type' | 'message'> = {},
): Answer {
  return { status, body: { error: { type, message, ...extra } } satisfies TravelErrorBody };
}

const notFound = (kind: ResourceKind, reference: string) =>
  errorAnswer(404, 'reservation_not_found', `no ${kind} reservation with reference ${reference}`, {
    reference,
  });

/** `POST /v1/{kind}/reservations`: `body` is the parsed JSON. */
export function reserve(store: ReservationStore, kind: ResourceKind, body: unknown): Answer {
  let request;
  try {
    request = validateReserveRequest(kind, body);
  } catch (err) {
    if (err instanceof InvalidRequestError) return { status: 400, body: err.toBody() };
    throw err;
  }
  const result = store.reserve(kind, request);
  const { reference } = request;
  switch (result.outcome) {
    case 'created':
      return {
        status: 201,
        body: result.reservation,
        headers: { location: `/v1/${kind}/reservations/${reference}` },
      };
    case 'replayed':
      return { status: 200, body: result.reservation, headers: { [REPLAYED_HEADER]: 'true' } };
    case 'reference_conflict':
    case 'reference_cancelled':
      return errorAnswer(409, result.outcome, result.message, { reference });
    case 'sold_out':
      return errorAnswer(422, 'sold_out', result.message, { reference });
  }
}

/** `GET /v1/{kind}/reservations?status=`. */
export function list(store: ReservationStore, kind: ResourceKind, query: URLSearchParams): Answer {
  const status = query.get('status');
  if (status !== null && status !== 'confirmed' && status !== 'cancelled') {
    return errorAnswer(400, 'invalid_request', 'status must be confirmed or cancelled', {
      param: 'status',
    });
  }
  return { status: 200, body: { data: store.list(kind, status ?? undefined) } };
}

/** `GET /v1/{kind}/reservations/{reference}`. */
export function get(store: ReservationStore, kind: ResourceKind, reference: string): Answer {
  const reservation = REFERENCE_PATTERN.test(reference) ? store.get(kind, reference) : undefined;
  return reservation ? { status: 200, body: reservation } : notFound(kind, reference);
}

/** `POST /v1/{kind}/reservations/{reference}/cancel`: idempotent, a second cancel answers the same. */
export function cancel(store: ReservationStore, kind: ResourceKind, reference: string): Answer {
  const reservation = REFERENCE_PATTERN.test(reference) ? store.cancel(kind, reference) : undefined;
  return reservation ? { status: 200, body: reservation } : notFound(kind, reference);
}
