/**
 * The trip saga: a hand-written workflow with no model, built from the same tool definitions as the
 * travel agent (`./tools.ts`), so its keys, reservation references and cancellations are the agent's.
 */
import type { Duration } from '@temporalio/common';
import {
  ApplicationFailure,
  isCancellation,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  type ActivityOptions,
  type RetryPolicy,
} from '@temporalio/workflow';
import {
  compensationCall,
  CUSTOMER,
  describeError,
  effectCall,
  reconcileBeforeComplete,
  Saga,
  sagaStateQuery,
  sagaStateUpserter,
  stepsQuery,
  TASK_KIND,
  TASK_STATUS,
  toolStep,
  type EffectResult,
  type StepRecord,
  type Tool,
} from 'onceflow/workflow';
import { bookFlight, bookHotel, rentCar } from './tools.js';
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
  /** Retry policy of cancellations; default {@link compensationCall}'s. */
  compensationRetry?: RetryPolicy;
  /** Start-to-close timeout of each booking attempt; default 30 s. */
  effectTimeout?: Duration;
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
  const options = {
    compensation: input.compensationRetry
      ? { ...compensationCall, retry: input.compensationRetry }
      : compensationCall,
    effect: input.effectTimeout ? { ...effectCall, startToCloseTimeout: input.effectTimeout } : effectCall,
  } satisfies { compensation: ActivityOptions; effect: ActivityOptions };
  const records: StepRecord[] = [];
  const saga = new Saga(sagaStateUpserter());
  setHandler(sagaStateQuery, () => saga.state());
  setHandler(stepsQuery, () => records);
  upsertSearchAttributes([
    { key: TASK_KIND, value: 'trip' },
    { key: CUSTOMER, value: input.traveller },
    { key: TASK_STATUS, value: 'running' },
  ]);

  /** One booking from its tool definition; drills abort right after it when asked. */
  const step = async (tool: Tool, toolInput: object): Promise<Booking> => {
    setCurrentDetails(`${tool.name} for ${input.tripId}`);
    const done: EffectResult<Booking> = await toolStep<Booking>(saga, tool, toolInput, options);
    records.push({ step: tool.name, key: done.key, outcome: done.outcome });
    if (input.failAfter === tool.name) {
      throw ApplicationFailure.nonRetryable(`drill: trip aborted after ${tool.name}`, 'TRIP_DRILL');
    }
    return done.result;
  };
  const trip = { trip_id: input.tripId, currency: input.currency };

  try {
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

    const undone = await reconcileBeforeComplete(saga);
    if (undone.length > 0) {
      // A reset past a compensation: bookings of this trip were cancelled, so it cannot complete.
      throw ApplicationFailure.nonRetryable(
        `trip ${input.tripId} was undone by an earlier run (${undone.length} bookings cancelled)`,
        'TRIP_UNDONE',
      );
    }
    saga.complete();
    upsertSearchAttributes([{ key: TASK_STATUS, value: 'completed' }]);
    setCurrentDetails(`trip ${input.tripId} booked`);
    return {
      tripId: input.tripId,
      status: 'completed',
      totalCents: flight.priceCents + hotel.priceCents + car.priceCents,
      currency: input.currency,
      flight,
      hotel,
      car,
      steps: records,
    };
  } catch (err) {
    const cancelled = isCancellation(err);
    setCurrentDetails(`cancelling bookings: ${cancelled ? 'cancelled' : describeError(err)}`);
    const state = await saga.compensate(cancelled ? 'cancelled' : describeError(err));
    upsertSearchAttributes([{ key: TASK_STATUS, value: state.status }]);
    setCurrentDetails(
      state.status === 'compensation_failed'
        ? `needs a person: ${state.needsAttention.map((a) => a.action).join('; ')}`
        : `trip ${input.tripId} cancelled`,
    );
    if (cancelled) throw err;
    throw ApplicationFailure.create({
      type: state.status === 'compensation_failed' ? 'COMPENSATION_FAILED' : 'TRIP_COMPENSATED',
      message: `trip ${input.tripId} failed and was ${state.status === 'compensation_failed' ? 'not fully undone' : 'undone'}: ${state.reason ?? ''}`,
      nonRetryable: true,
      details: [state],
    });
  }
}
