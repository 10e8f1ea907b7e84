/**
 * The activity inputs and results of the travel example (camelCase, as the workflows hand them to
 * the activities). The model's snake_case tool inputs are in `./tools.ts`.
 */

/** Which flight of a trip: the identity of a flight booking next to the trip ID. */
export type FlightLeg = 'outbound' | 'return';

/** Shared by every booking: the trip it belongs to and its price. */
export interface BookingTerms {
  /** The business reference of the trip, e.g. `trip_1001`. */
  tripId: string;
  /** Minor units (cents). */
  priceCents: number;
  /** ISO 4217, upper case. */
  currency: string;
}

export interface FlightInput extends BookingTerms {
  leg: FlightLeg;
  from: string;
  to: string;
  date: string;
  passenger: string;
}

export interface HotelInput extends BookingTerms {
  city: string;
  checkIn: string;
  checkOut: string;
  guest: string;
}

export interface CarInput extends BookingTerms {
  city: string;
  pickUp: string;
  dropOff: string;
  driver: string;
}

/** What a booking activity returns (and the ledger stores and replays). */
export interface Booking {
  /** The reservation's ID at the travel API (`flt_…`, `htl_…`, `car_…`). */
  reservationId: string;
  /** The reservation reference we chose: derived from the intent key. */
  reference: string;
  status: 'confirmed' | 'cancelled';
  priceCents: number;
  currency: string;
  /** True when the travel API answered a repeated reference with the first booking (a retry after a lost answer). */
  replayedDownstream: boolean;
}

/** Input of the cancellations: the key of the booking step they undo. */
export interface CancelInput {
  tripId: string;
  /** The booking step's intent key; its reservation reference derives from it. */
  bookingKey: string;
}

/** What a cancellation did. `nothing_to_cancel`: the booking never took effect. */
export interface Cancellation {
  reference: string;
  reservationId: string | null;
  status: 'cancelled' | 'nothing_to_cancel';
  reason?: string;
}

/** Input of the `getTrip` read: the intent keys each booking of the trip has in this task. */
export interface GetTripInput {
  tripId: string;
  keys: { outboundFlight: string; returnFlight: string; hotel: string; car: string };
}

/** One booking as `get_trip` reports it. */
export interface TripBooking {
  reservationId: string;
  status: 'confirmed' | 'cancelled';
  priceCents: number;
  currency: string;
  summary: string;
}

/** What `get_trip` tells the model: each booking of the trip that exists downstream. */
export interface TripView {
  tripId: string;
  outboundFlight: TripBooking | null;
  returnFlight: TripBooking | null;
  hotel: TripBooking | null;
  car: TripBooking | null;
}
