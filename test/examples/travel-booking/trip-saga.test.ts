import { randomUUID } from 'node:crypto';
import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  approveUpdate,
  denyUpdate,
  SAGA_STATE,
  sagaStateQuery,
  stepsQuery,
  TASK_STATUS,
} from 'onceflow/workflow';
import type { TripInput, TripStep } from '../../../examples/travel-booking/trip-saga.js';
import { tripWorkflow } from '../../../examples/travel-booking/workflows.js';
import type { ResourceKind } from '../../../examples/travel-booking/sandbox/index.js';
import { createTravelEnv, type TravelEnv } from './support.js';

const KIND: Record<TripStep, ResourceKind> = {
  book_flight: 'flights',
  book_hotel: 'hotels',
  rent_car: 'cars',
};

describe('tripWorkflow: flight → hotel → car as a hand-written saga from the same tool definitions', () => {
  let env: TravelEnv;
  beforeAll(async () => {
    env = await createTravelEnv();
  });
  afterAll(async () => {
    await env?.close();
  });

  function trip(overrides: Partial<TripInput> = {}): TripInput {
    return {
      tripId: `trip_${randomUUID().slice(0, 8)}`,
      traveller: 'Grace Hopper',
      currency: 'EUR',
      flight: { from: 'AMS', to: 'LIS', date: '2026-06-01', priceCents: 18_900 },
      hotel: { city: 'Lisbon', checkIn: '2026-06-01', checkOut: '2026-06-04', priceCents: 42_000 },
      car: { city: 'Lisbon', pickUp: '2026-06-01', dropOff: '2026-06-04', priceCents: 9_900 },
      compensationRetry: { initialInterval: '100 milliseconds', maximumAttempts: 3 },
      ...overrides,
    };
  }
  const workflowId = (input: TripInput) => `trip-saga-${input.tripId}`;
  const execute = (input: TripInput) =>
    env.client.workflow.execute(tripWorkflow, {
      taskQueue: env.taskQueue,
      workflowId: workflowId(input),
      args: [input],
    });
  const start = (input: TripInput) =>
    env.client.workflow.start(tripWorkflow, {
      taskQueue: env.taskQueue,
      workflowId: workflowId(input),
      args: [input],
    });
  const failure = (input: TripInput) =>
    execute(input).then(
      () => expect.unreachable('the trip should fail'),
      (err: unknown) => (expect(err).toBeInstanceOf(WorkflowFailedError), err as WorkflowFailedError),
    );
  const keysOf = async (input: TripInput) =>
    Object.fromEntries(
      (await env.client.workflow.getHandle(workflowId(input)).query(stepsQuery)).map((s) => [s.step, s.key]),
    ) as Partial<Record<TripStep, string>>;

  it('books the three legs once each, with references derived from their intent keys', async () => {
    const input = trip();
    const result = await execute(input);
    expect(result.status).toBe('completed');
    expect(result.totalCents).toBe(18_900 + 42_000 + 9_900);
    expect(result.steps.map((s) => [s.step, s.outcome])).toEqual([
      ['book_flight', 'executed'],
      ['book_hotel', 'executed'],
      ['rent_car', 'executed'],
    ]);
    for (const step of result.steps) {
      expect(env.reservation(KIND[step.step as TripStep], step.key)).toEqual({
        id: expect.any(String) as string,
        status: 'confirmed',
        commits: 1,
        cancels: 0,
      });
    }
    expect([result.flight, result.hotel, result.car].map((b) => b.replayedDownstream)).toEqual([
      false,
      false,
      false,
    ]);
    const description = await env.client.workflow.getHandle(workflowId(input)).describe();
    expect(description.typedSearchAttributes.get(TASK_STATUS)).toBe('completed');
    expect(description.typedSearchAttributes.get(SAGA_STATE)).toBe('completed');
  });

  const drills: [TripStep, string[]][] = [
    ['book_flight', ['cancelFlight']],
    ['book_hotel', ['cancelHotel', 'cancelFlight']],
    ['rent_car', ['cancelCar', 'cancelHotel', 'cancelFlight']],
  ];

  it.each(drills)('failAfter %s: cancels every booking in reverse, once each', async (failAfter, undo) => {
    const input = trip({ failAfter });
    const err = await failure(input);
    expect(err.cause).toBeInstanceOf(ApplicationFailure);
    expect((err.cause as ApplicationFailure).type).toBe('TRIP_COMPENSATED');
    const activities = await env.scheduledActivities(workflowId(input));
    expect(activities.slice(-undo.length)).toEqual(undo);
    expect(activities.filter((a) => a.startsWith('cancel'))).toHaveLength(undo.length);
    const keys = await keysOf(input);
    for (const step of ['book_flight', 'book_hotel', 'rent_car'] as const) {
      const booked = Object.keys(keys).includes(step);
      expect(booked).toBe(undo.length > ['book_flight', 'book_hotel', 'rent_car'].indexOf(step));
      const reservation = env.reservation(KIND[step], keys[step]);
      if (booked) expect(reservation).toMatchObject({ status: 'cancelled', commits: 1, cancels: 1 });
      else expect(reservation).toBeUndefined();
    }
    const state = await env.client.workflow.getHandle(workflowId(input)).query(sagaStateQuery);
    expect(state.status).toBe('compensated');
    expect(state.steps.every((s) => s.status === 'compensated')).toBe(true);
  });

  it('a sold-out hotel: final at once, the flight cancelled, no cancel sent for the hotel never booked', async () => {
    const input = trip({
      hotel: { city: 'Atlantis', checkIn: '2026-06-01', checkOut: '2026-06-04', priceCents: 1 },
    });
    const hotelsBefore = env.sandbox.audit().hotels.reservations;
    const err = await failure(input);
    expect(String(err.cause?.message)).toContain('no rooms left in Atlantis');
    expect(await env.scheduledActivities(workflowId(input))).toEqual([
      'bookFlight',
      'bookHotel',
      'unrecordedEffects', // the saga asks the ledger for steps its history lost before undoing
      'cancelHotel',
      'cancelFlight',
    ]);
    expect(await env.attempts(workflowId(input), 'bookHotel')).toEqual([1]);
    expect(await env.activityResults(workflowId(input), 'cancelHotel')).toMatchObject([
      { result: { status: 'nothing_to_cancel', reason: 'ended in SOLD_OUT', reservationId: null } },
    ]);
    const keys = await keysOf(input);
    expect(env.reservation('flights', keys.book_flight)).toMatchObject({ status: 'cancelled', cancels: 1 });
    expect(env.sandbox.audit().hotels.reservations).toBe(hotelsBefore);
  });

  it('retries a car rental refused with 503 under the same reference: one reservation', async () => {
    const input = trip();
    env.sandbox.faults.failNext('cars', 503);
    const result = await execute(input);
    expect(result.status).toBe('completed');
    expect(await env.attempts(workflowId(input), 'rentCar')).toEqual([2]);
    const car = result.steps.find((s) => s.step === 'rent_car');
    expect(env.reservation('cars', car?.key)).toMatchObject({ status: 'confirmed', commits: 1 });
    expect(result.car.replayedDownstream).toBe(false);
  });

  it('runs the same trip again (same workflow ID, a new run): every booking replayed from the ledger', async () => {
    const input = trip();
    const first = await execute(input);
    const again = await execute(input);
    expect(again.steps.map((s) => s.outcome)).toEqual(['replayed', 'replayed', 'replayed']);
    expect(again.steps.map((s) => s.key)).toEqual(first.steps.map((s) => s.key));
    expect(again.hotel.reservationId).toBe(first.hotel.reservationId);
    for (const step of first.steps) {
      expect(env.reservation(KIND[step.step as TripStep], step.key)).toMatchObject({ commits: 1 });
    }
  });

  it('a hotel over the traveller’s limit waits for a person: a decision for another key is refused, approval books it and is in the ledger', async () => {
    const input = trip({ maxHotelCents: 30_000 });
    const handle = await start(input);
    let status: string | undefined;
    for (let i = 0; i < 100 && status !== 'waiting_approval'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      status = (await handle.describe()).typedSearchAttributes.get(TASK_STATUS);
    }
    expect(status).toBe('waiting_approval');
    const hotelsBefore = env.sandbox.audit().hotels.reservations;
    const refused = await handle.executeUpdate(approveUpdate, { args: [{ key: 'ik_another' }] }).then(
      () => expect.unreachable('a decision for another effect must be refused'),
      (err: unknown) => err as Error,
    );
    expect(String((refused.cause as Error | undefined)?.message)).toMatch(/waiting approval is for effect/);
    const waiting = await handle.executeUpdate(approveUpdate, {
      args: [{ by: 'ops', note: 'conference rate' }],
    });
    expect(waiting).toMatchObject({
      tool: 'book_hotel',
      reason: 'hotel stay of 420.00 EUR exceeds the policy limit of 300.00 EUR',
    });
    const result = await handle.result();
    expect(result.status).toBe('completed');
    expect(env.sandbox.audit().hotels.reservations).toBe(hotelsBefore + 1);
    const hotelKey = result.steps.find((s) => s.step === 'book_hotel')?.key;
    expect(hotelKey).toBe(waiting.key);
    const { rows } = await env.pool.query<{ approved_by: string; note: string }>(
      'SELECT approved_by, note FROM effect_approvals WHERE key = $1',
      [hotelKey],
    );
    expect(rows).toEqual([{ approved_by: 'ops', note: 'conference rate' }]);
  });

  it('a denied hotel fails the trip and cancels the flight already booked', async () => {
    const input = trip({ maxHotelCents: 30_000 });
    const handle = await start(input);
    for (let i = 0; i < 100; i++) {
      const denied = await handle.executeUpdate(denyUpdate, { args: [{ note: 'too expensive' }] }).then(
        () => true,
        () => false,
      );
      if (denied) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const err = await handle.result().then(
      () => expect.unreachable('a denied hotel should fail the trip'),
      (e: unknown) => e as WorkflowFailedError,
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(String(err.cause?.message)).toContain('not approved (too expensive)');
    const state = await handle.query(sagaStateQuery);
    expect(state.status).toBe('compensated');
    const keys = await keysOf(input);
    expect(env.reservation('flights', keys.book_flight)).toMatchObject({ status: 'cancelled' });
    expect(keys.book_hotel).toBeUndefined();
  });
});
