import {
  REPLAYED_HEADER,
  type Reservation,
  type ReservationStatus,
  type ResourceKind,
  type ReserveRequest,
  type TravelErrorBody,
} from './types.js';

/**
 * A failed call to the travel API. `status` is the HTTP status, or 0 when no answer came (connection
 * refused or dropped, timeout). `retryable` is true for 0, 429 and 5xx: the same call, with the same
 * reference, may be made again; a 4xx (invalid, conflict, cancelled, sold out, not found) is final.
 */
export class TravelApiError extends Error {
  override readonly name = 'TravelApiError';
  readonly retryable: boolean;

  constructor(
    readonly status: number,
    /** The `error.type` of the answer, or `connection_error` / `timeout` when there was none. */
    readonly type: string,
    message: string,
    /** The field at fault, for `invalid_request`. */
    readonly param: string | undefined = undefined,
    /** The reference concerned, when the answer names one. */
    readonly reference: string | undefined = undefined,
  ) {
    super(message);
    this.retryable = status === 0 || status === 429 || status >= 500;
  }
}

/** The result of {@link TravelClient.reserve}. */
export interface ReserveResult<K extends ResourceKind> {
  reservation: Reservation<K>;
  /** True when the reference was already booked with these terms (200 + `Reservation-Replayed`). */
  replayed: boolean;
}

/** Options of {@link createTravelClient}. */
export interface TravelClientOptions {
  /** Per-call timeout in milliseconds; default 10 000. A timeout is a retryable `TravelApiError`. */
  timeoutMs?: number;
}

/** A typed client of the travel reservations API. */
export interface TravelClient {
  /** Books under `body.reference`: new (201) or replayed (200); throws {@link TravelApiError}. */
  reserve<K extends ResourceKind>(kind: K, body: ReserveRequest<K>): Promise<ReserveResult<K>>;
  /** The reservation under `reference`, or undefined when there is none (404). */
  get<K extends ResourceKind>(kind: K, reference: string): Promise<Reservation<K> | undefined>;
  /** Cancels the reservation under `reference` (idempotent); throws on 404 `reservation_not_found`. */
  cancel<K extends ResourceKind>(kind: K, reference: string): Promise<Reservation<K>>;
  /** Every reservation of `kind`, optionally of one status. */
  list<K extends ResourceKind>(kind: K, status?: ReservationStatus): Promise<Reservation<K>[]>;
}

/** A client of the API at `baseUrl` (e.g. a sandbox's `url`), built on `fetch`. */
export function createTravelClient(baseUrl: string, options: TravelClientOptions = {}): TravelClient {
  const base = baseUrl.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 10_000;

  async function call(method: string, path: string, body?: unknown): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(`${base}${path}`, {
        method,
        signal: AbortSignal.timeout(timeoutMs),
        ...(body === undefined
          ? {}
          : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      });
    } catch (err) {
      const timedOut = err instanceof DOMException && err.name === 'TimeoutError';
      const cause = err instanceof Error ? (err.cause ?? err) : err;
      const detail = cause instanceof Error ? cause.message : String(cause);
      throw timedOut
        ? new TravelApiError(0, 'timeout', `${method} ${path}: no answer within ${timeoutMs} ms`)
        : new TravelApiError(0, 'connection_error', `${method} ${path}: ${detail}`);
    }
    if (response.ok) return response;
    const text = await response.text();
    let error: Partial<TravelErrorBody['error']> = {};
    try {
      error = (JSON.parse(text) as Partial<TravelErrorBody>).error ?? {};
    } catch {
      // not JSON: keep the status and the raw text
    }
    throw new TravelApiError(
      response.status,
      error.type ?? `http_${response.status}`,
      error.message ?? (text || response.statusText),
      error.param,
      error.reference,
    );
  }

  const path = (kind: ResourceKind, reference?: string, action?: string) =>
    `/v1/${kind}/reservations` +
    (reference === undefined ? '' : `/${encodeURIComponent(reference)}`) +
    (action === undefined ? '' : `/${action}`);

  return {
    async reserve(kind, body) {
      const response = await call('POST', path(kind), body);
      return {
        reservation: (await response.json()) as Reservation<typeof kind>,
        replayed: response.headers.get(REPLAYED_HEADER) === 'true',
      };
    },
    async get(kind, reference) {
      try {
        return (await (await call('GET', path(kind, reference))).json()) as Reservation<typeof kind>;
      } catch (err) {
        if (err instanceof TravelApiError && err.type === 'reservation_not_found') return undefined;
        throw err;
      }
    },
    async cancel(kind, reference) {
      const response = await call('POST', path(kind, reference, 'cancel'));
      return (await response.json()) as Reservation<typeof kind>;
    },
    async list(kind, status) {
      const query = status === undefined ? '' : `?status=${status}`;
      const response = await call('GET', `${path(kind)}${query}`);
      return ((await response.json()) as { data: Reservation<typeof kind>[] }).data;
    },
  };
}
