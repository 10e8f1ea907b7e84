import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { onceflowApi } from 'onceflow/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRAVEL_TASKS } from '../../../examples/travel-booking/tasks.js';
import { createTravelEnv, type TravelEnv } from './support.js';

/** The travel example's backend: its own Fastify server with onceflow's API mounted under /trips. */
describe('travel task kinds through the API plugin in the example’s own server', () => {
  let env: TravelEnv;
  let app: FastifyInstance;
  beforeAll(async () => {
    env = await createTravelEnv();
    app = Fastify();
    await app.register(
      onceflowApi({
        tasks: TRAVEL_TASKS,
        client: env.client,
        pool: env.pool,
        taskQueue: env.taskQueue,
        uiUrl: 'http://ui.test',
      }),
      { prefix: '/trips' },
    );
  });
  afterAll(async () => {
    await app?.close();
    await env?.close();
  });

  const trip = (tripId: string, hotelCents = 42_000) => ({
    kind: 'trip',
    tripId,
    traveller: 'Grace Hopper',
    currency: 'EUR',
    flight: { from: 'AMS', to: 'LIS', date: '2026-06-01', priceCents: 18_900 },
    hotel: { city: 'Lisbon', checkIn: '2026-06-01', checkOut: '2026-06-04', priceCents: hotelCents },
    car: { city: 'Lisbon', pickUp: '2026-06-01', dropOff: '2026-06-04', priceCents: 9_900 },
  });
  const post = (key: string, payload: object) =>
    app.inject({ method: 'POST', url: '/trips/tasks', headers: { 'idempotency-key': key }, payload });

  it('starts the trip saga once for five concurrent identical requests: one reservation per leg', async () => {
    const tripId = `trip_${randomUUID().slice(0, 8)}`;
    const key = `book-${tripId}`;
    const before = env.sandbox.audit();
    const answers = await Promise.all(Array.from({ length: 5 }, () => post(key, trip(tripId))));
    expect(answers.map((a) => a.statusCode).sort()).toEqual([200, 200, 200, 200, 201]);
    expect(new Set(answers.map((a) => a.json<{ runId: string }>().runId)).size).toBe(1);
    const result: unknown = await env.client.workflow.getHandle(key).result();
    expect(result).toMatchObject({ status: 'completed', totalCents: 18_900 + 42_000 + 9_900 });
    const after = env.sandbox.audit();
    expect(after.flights.reservations - before.flights.reservations).toBe(1);
    expect(after.hotels.reservations - before.hotels.reservations).toBe(1);
    expect(after.cars.reservations - before.cars.reservations).toBe(1);

    // Finished: the same request answers the task with its result; other terms are a conflict.
    const again = await post(key, trip(tripId));
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ status: 'completed', result: { status: 'completed' } });
    expect((await post(key, trip(tripId, 50_000))).statusCode).toBe(422);
    expect(env.sandbox.audit().hotels.reservations).toBe(after.hotels.reservations);
  });

  it('starts the travel agent with its own field, and refuses a body of another kind with the field named', async () => {
    const tripId = `trip_${randomUUID().slice(0, 8)}`;
    const res = await post(`agent-${tripId}`, {
      kind: 'travel',
      prompt: `Book trip_id=${tripId} for Ada Lovelace: AMS→LIS on 2026-05-04, a hotel in Lisbon for three nights and a car.`,
      scenario: 'travel-happy-path',
      maxHotelCents: 100_000,
    });
    expect(res.statusCode, res.body).toBe(201);
    const result: unknown = await env.client.workflow.getHandle(`agent-${tripId}`).result();
    expect(result).toMatchObject({ status: 'completed' });

    const wrong = await post(`bad-${tripId}`, { ...trip(tripId), flight: { from: 'AMS' } });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json<{ error: { message: string } }>().error.message).toMatch(/flight\.to/);
    const unknown = await post(`bad-${tripId}`, { kind: 'order', order: {} });
    expect(unknown.json<{ error: { message: string } }>().error.message).toBe(
      'kind: expected one of travel, trip, got "order"',
    );
  });
});
