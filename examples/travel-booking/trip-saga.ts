/**
 * The trip saga: a hand-written workflow with no model, built from the same tool definitions as the
 * travel agent (`./tools.ts`), so its keys, reservation references and cancellations are the agent's.
 */
import type { Duration } from '@temporalio/common';
import { ApplicationFailure, setCurrentDetails, type RetryPolicy } from '@temporalio/workflow';
import { runSaga, type RunSagaOptions, type StepRecord, type Tool } from 'onceflow/workflow';
import { bookFlight, bookHotel, rentCar, type TravelPolicy } from './tools.js';
import type { Booking } from './types.js';

/** The steps of a trip, in order. */
export const TRIP_STEPS = ['book_flight', 'book_hotel', 'rent_car'] as const;
export type TripStep = (typeof TRIP_STEPS)[number];

/** Input of {@link tripWorkflow}. Start it with workflow ID = the trip's task ID. */
export interface TripInput {
  tripId: string;
  /** Passenger, guest and driver. */
  traveller: string;
  /** ISO 4217, e.g. `EUR`. */
  currency: string;
  flight: { from: string; to: string; date: string; priceCents: number };
  /** `city: 'Atlantis'` is always sold out at the sandbox. */
  hotel: { city: string; checkIn: string; checkOut: string; priceCents: number };
  car: { city: string; pickUp: string; dropOff: string; priceCents: number };
  /** Drill: abort the trip right after this step succeeded, to watch the saga cancel in reverse. */
  failAfter?: TripStep;
  /** Retry policy of cancellations; default the `compensationCall` preset's. */
  compensationRetry?: RetryPolicy;
  /** Start-to-close timeout of each booking attempt; default 30 s. */
  effectTimeout?: Duration;
  /**
   * Hotel stays above this many minor units wait for a person (`approve`/`deny`), as the agent's do.
   * Unset: no approval asked.
   */
  maxHotelCents?: number;
}

export interface TripResult {
  tripId: string;
  status: 'completed';
  totalCents: number;
  currency: string;
  flight: Booking;
  hotel: Booking;
  car: Booking;
  steps: StepRecord[];
}

/**
 * A fixed three-step saga: book the flight → the hotel → the car. On failure (a sold-out hotel, a
 * drill) or cancellation, the bookings made are cancelled in reverse, each exactly once under its own
 * key; a booking that never took effect is not cancelled at the travel API.
 */
export async function tripWorkflow(input: TripInput): Promise<TripResult> {
  const options: RunSagaOptions = {
    title: `trip ${input.tripId}`,
    kind: 'trip',
    customer: input.traveller,
    compensatedType: 'TRIP_COMPENSATED',
    undoneType: 'TRIP_UNDONE',
    overrides: input,
    ...(input.maxHotelCents !== undefined
      ? { policy: { maxHotelCents: input.maxHotelCents } satisfies TravelPolicy }
      : {}),
  };
  return runSaga(options, async ({ step: run, records }) => {
    /** One booking; the drill aborts right after the step it names. */
    const step = async (tool: Tool, toolInput: object): Promise<Booking> => {
      setCurrentDetails(`${tool.name} for ${input.tripId}`);
      const booking = await run<Booking>(tool, toolInput);
      if (input.failAfter === tool.name)
        throw ApplicationFailure.nonRetryable(`drill: trip aborted after ${tool.name}`, 'TRIP_DRILL');
      return booking;
    };
    const trip = { trip_id: input.tripId, currency: input.currency };
    const flight = await step(bookFlight, {
      ...trip,
      leg: 'outbound',
      from: input.flight.from,
      to: input.flight.to,
      date: input.flight.date,
      passenger: input.traveller,
      price_cents: input.flight.priceCents,
    });
    const hotel = await step(bookHotel, {
      ...trip,
      city: input.hotel.city,
      check_in: input.hotel.checkIn,
      check_out: input.hotel.checkOut,
      guest: input.traveller,
      price_cents: input.hotel.priceCents,
    });
    const car = await step(rentCar, {
      ...trip,
      city: input.car.city,
      pick_up: input.car.pickUp,
      drop_off: input.car.dropOff,
      driver: input.traveller,
      price_cents: input.car.priceCents,
    });
    return {
      tripId: input.tripId,
      status: 'completed' as const,
      totalCents: flight.priceCents + hotel.priceCents + car.priceCents,
      currency: input.currency,
      flight,
      hotel,
      car,
      steps: records,
    };
  });
}
