/**
 * The travel example's activities, against the reservations API (the sandbox in `./sandbox/`, or a
 * real service with the same contract). Its idempotency is the client-chosen reservation `reference`:
 * we send one derived from the intent key, so a retried attempt (a lost answer, a crashed worker)
 * reaches the API with the same reference and is answered with the first booking (200, replayed),
 * never booked twice. `effect()` records each booking in the ledger first, so a booking the model
 * re-decides in a later turn is replayed from the ledger without calling the API at all.
 */
import {
  BusinessError,
  effect,
  IdempotencyKeyReusedError,
  undoing,
  type EffectResult,
  type Keyed,
} from 'onceflow/activity';
import {
  REFERENCE_PATTERN,
  TravelApiError,
  type Reservation,
  type ResourceKind,
  type TravelClient,
} from './sandbox/index.js';
import type {
  Booking,
  Cancellation,
  CancelInput,
  CarInput,
  FlightInput,
  GetTripInput,
  HotelInput,
  TripBooking,
  TripView,
} from './types.js';

/**
 * The reservation reference of a booking: its intent key (`ik_` + 32 base64url characters), kept to
 * the API's pattern `^[A-Za-z0-9_-]{1,64}$`. A pure function of the key, so the cancellation derives
 * the same reference from the step key it undoes.
 */
export function reservationReference(intentKey: string): string {
  const reference = intentKey.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64);
  if (!REFERENCE_PATTERN.test(reference)) throw new TypeError(`no reservation reference in key ${intentKey}`);
  return reference;
}

/** The travel API's refusals in its own words, for the model to decide on. */
function terms(err: TravelApiError) {
  return {
    type: err.type,
    status: err.status,
    ...(err.param !== undefined ? { param: err.param } : {}),
    ...(err.reference !== undefined ? { reference: err.reference } : {}),
  };
}

/**
 * Maps the API's errors: 0 (no answer), 429 and 5xx are rethrown as they are (the ledger releases the
 * claim, Temporal retries with the same key and so the same reference); a 4xx is final, a
 * {@link BusinessError} stored in the ledger and told to the model.
 */
function mapTravelError(err: unknown, intentKey: string): unknown {
  if (!(err instanceof TravelApiError) || err.retryable) return err;
  switch (err.type) {
    case 'sold_out':
      return new BusinessError('SOLD_OUT', err.message, terms(err));
    case 'reference_conflict':
      // Our ledger saw the same terms under this key, yet the API holds other terms under its reference.
      return new IdempotencyKeyReusedError(intentKey, 'travel-api', 'this request');
    case 'reference_cancelled':
      return new BusinessError('BOOKING_CANCELLED', err.message, terms(err));
    case 'invalid_request':
      return new BusinessError('INVALID_BOOKING', err.message, terms(err));
    default:
      return new BusinessError('BOOKING_REJECTED', err.message, terms(err));
  }
}

function bookingOf(reservation: Reservation, replayed: boolean): Booking {
  return {
    reservationId: reservation.id,
    reference: reservation.reference,
    status: reservation.status,
    priceCents: reservation.price_cents,
    currency: reservation.currency,
    replayedDownstream: replayed,
  };
}

const nothingToCancel =
  (reference: string) =>
  (reason: string): Cancellation => ({ reference, reservationId: null, status: 'nothing_to_cancel', reason });

/** The travel activities, given a client of the reservations API. */
export function createTravelActivities(travel: TravelClient) {
  /** Books under the reference derived from the intent key; replays and conflicts are the ledger's. */
  async function book(
    kind: ResourceKind,
    intent: Keyed<unknown>['intent'],
    request: (reference: string) => Parameters<TravelClient['reserve']>[1],
  ): Promise<EffectResult<Booking>> {
    return effect(intent, async ({ key }) => {
      try {
        const { reservation, replayed } = await travel.reserve(kind, request(reservationReference(key)));
        return bookingOf(reservation, replayed);
      } catch (err) {
        throw mapTravelError(err, key);
      }
    });
  }

  /**
   * The compensation of a booking, under its own key (`<booking key>:undo`). It reads the booking's
   * recorded outcome first: a booking that never took effect (sold out, never attempted) has nothing
   * to cancel and the API is not called; a recorded one is cancelled by its reference; an unknown one
   * (a crashed attempt) is cancelled by the reference its key derives, which the API may not hold.
   */
  async function cancel(kind: ResourceKind, { intent, input }: Keyed<CancelInput>) {
    const derived = reservationReference(input.bookingKey);
    const run = undoing(intent, nothingToCancel(derived), async (step): Promise<Cancellation> => {
      const reference = step.status === 'performed' ? (step.result as Booking).reference : derived;
      try {
        const reservation = await travel.cancel(kind, reference);
        return { reference, reservationId: reservation.id, status: 'cancelled' };
      } catch (err) {
        if (err instanceof TravelApiError && err.type === 'reservation_not_found')
          return nothingToCancel(reference)('the travel API holds no reservation under this reference');
        throw mapTravelError(err, intent.key);
      }
    });
    return effect(intent, () => run());
  }

  /** The trip's booking under `key`'s reference, as `get_trip` shows it; null when the API holds none. */
  const viewOf = (reservation: Reservation | undefined, summary: string): TripBooking | null =>
    reservation
      ? {
          reservationId: reservation.id,
          status: reservation.status,
          priceCents: reservation.price_cents,
          currency: reservation.currency,
          summary,
        }
      : null;
  const views = {
    async flight(key: string) {
      const r = await travel.get('flights', reservationReference(key));
      return viewOf(r, r ? `flight ${r.from}→${r.to} on ${r.date} for ${r.passenger}` : '');
    },
    async hotel(key: string) {
      const r = await travel.get('hotels', reservationReference(key));
      return viewOf(r, r ? `hotel in ${r.city} ${r.check_in}→${r.check_out} for ${r.guest}` : '');
    },
    async car(key: string) {
      const r = await travel.get('cars', reservationReference(key));
      return viewOf(r, r ? `car in ${r.city} ${r.pick_up}→${r.drop_off} for ${r.driver}` : '');
    },
  };

  return {
    /** Books a flight: `reference` = the intent key of (trip, leg). */
    async bookFlight({ intent, input }: Keyed<FlightInput>): Promise<EffectResult<Booking>> {
      return book('flights', intent, (reference) => ({
        reference,
        from: input.from,
        to: input.to,
        date: input.date,
        passenger: input.passenger,
        price_cents: input.priceCents,
        currency: input.currency,
      }));
    },

    /** Books the trip's hotel stay: `reference` = the intent key of the trip's stay. */
    async bookHotel({ intent, input }: Keyed<HotelInput>): Promise<EffectResult<Booking>> {
      return book('hotels', intent, (reference) => ({
        reference,
        city: input.city,
        check_in: input.checkIn,
        check_out: input.checkOut,
        guest: input.guest,
        price_cents: input.priceCents,
        currency: input.currency,
      }));
    },

    /** Rents the trip's car: `reference` = the intent key of the trip's rental. */
    async rentCar({ intent, input }: Keyed<CarInput>): Promise<EffectResult<Booking>> {
      return book('cars', intent, (reference) => ({
        reference,
        city: input.city,
        pick_up: input.pickUp,
        drop_off: input.dropOff,
        driver: input.driver,
        price_cents: input.priceCents,
        currency: input.currency,
      }));
    },

    /** Compensation of `bookFlight`. */
    async cancelFlight(keyed: Keyed<CancelInput>): Promise<EffectResult<Cancellation>> {
      return cancel('flights', keyed);
    },

    /** Compensation of `bookHotel`. */
    async cancelHotel(keyed: Keyed<CancelInput>): Promise<EffectResult<Cancellation>> {
      return cancel('hotels', keyed);
    },

    /** Compensation of `rentCar`. */
    async cancelCar(keyed: Keyed<CancelInput>): Promise<EffectResult<Cancellation>> {
      return cancel('cars', keyed);
    },

    /** The `get_trip` read: each of the trip's bookings the API holds, by the references their keys derive. */
    async getTrip(input: GetTripInput): Promise<TripView> {
      const [outboundFlight, returnFlight, hotel, car] = await Promise.all([
        views.flight(input.keys.outboundFlight),
        views.flight(input.keys.returnFlight),
        views.hotel(input.keys.hotel),
        views.car(input.keys.car),
      ]);
      return { tripId: input.tripId, outboundFlight, returnFlight, hotel, car };
    },
  };
}

/** The activity interface the travel workflows may import as a type. */
export type TravelActivities = ReturnType<typeof createTravelActivities>;
