/**
 * The wire types of the travel reservations sandbox, shared by the server and the client. Field names
 * are snake_case as on the wire; amounts are integers in minor units.
 */

/** The three resources, as they appear in the path: `/v1/{kind}/reservations`. */
export const RESOURCE_KINDS = ['flights', 'hotels', 'cars'] as const;

/** One resource kind: `flights`, `hotels` or `cars`. */
export type ResourceKind = (typeof RESOURCE_KINDS)[number];

/** A client-chosen reservation reference: unique per resource kind, the idempotency key of a booking. */
export const REFERENCE_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Price of a booking, shared by every kind. */
export interface PriceTerms {
  /** A positive integer in minor units (cents). */
  price_cents: number;
  /** ISO 4217, upper case, e.g. `EUR`. */
  currency: string;
}

/** What a flight reservation books. */
export interface FlightTerms extends PriceTerms {
  /** IATA airport code, three upper-case letters. */
  from: string;
  /** IATA airport code, three upper-case letters, not `from`. `XXX` is always sold out. */
  to: string;
  /** Departure day, `YYYY-MM-DD`. */
  date: string;
  passenger: string;
}

/** What a hotel reservation books. */
export interface HotelTerms extends PriceTerms {
  /** `Atlantis` is always sold out. */
  city: string;
  /** `YYYY-MM-DD`. */
  check_in: string;
  /** `YYYY-MM-DD`, after `check_in`. */
  check_out: string;
  guest: string;
}

/** What a car rental reservation books. */
export interface CarTerms extends PriceTerms {
  city: string;
  /** `YYYY-MM-DD`. */
  pick_up: string;
  /** `YYYY-MM-DD`, not before `pick_up` (a same-day rental is allowed). */
  drop_off: string;
  driver: string;
}

/** The terms of each kind. */
export interface TermsByKind {
  flights: FlightTerms;
  hotels: HotelTerms;
  cars: CarTerms;
}

/** The body of `POST /v1/{kind}/reservations`: a reference plus the terms of that kind. */
export type ReserveRequest<K extends ResourceKind = ResourceKind> = TermsByKind[K] & { reference: string };

/** Where a reservation stands. */
export type ReservationStatus = 'confirmed' | 'cancelled';

/** A reservation as the service returns it. */
export type Reservation<K extends ResourceKind = ResourceKind> = TermsByKind[K] & {
  /** Server-assigned, e.g. `flt_…`, `htl_…`, `car_…`. */
  id: string;
  reference: string;
  status: ReservationStatus;
  /** ISO 8601. */
  created_at: string;
  /** ISO 8601 once cancelled, else null. */
  cancelled_at: string | null;
};

/** Every error type the service answers with (`{ error: { type, message, ... } }`). */
export type TravelErrorType =
  | 'invalid_request'
  | 'reference_conflict'
  | 'reference_cancelled'
  | 'reservation_not_found'
  | 'sold_out'
  | 'not_found'
  | 'method_not_allowed'
  | 'unsupported_media_type'
  | 'payload_too_large'
  | 'rate_limited'
  | 'service_unavailable'
  | 'internal_error';

/** The JSON body of every error response. */
export interface TravelErrorBody {
  error: {
    type: TravelErrorType;
    message: string;
    /** The offending field, for `invalid_request`. */
    param?: string;
    /** The reservation reference concerned, where there is one. */
    reference?: string;
  };
}

/** The response header set (to `true`) on a reservation replayed for a repeated identical request. */
export const REPLAYED_HEADER = 'Reservation-Replayed';
