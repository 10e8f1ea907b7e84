import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  agentStatusQuery,
  approveUpdate,
  denyUpdate,
  sagaStateQuery,
  TASK_STATUS,
  transcriptQuery,
} from 'onceflow/workflow';
import type { TravelAgentInput } from '../../../examples/travel-booking/agent.js';
import { travelAgent } from '../../../examples/travel-booking/workflows.js';
import { createTravelEnv, type TravelEnv } from './support.js';

describe('travelAgent: the travel tools under the scripted model, against the reservations sandbox', () => {
  let env: TravelEnv;
  beforeAll(async () => {
    env = await createTravelEnv();
  });
  afterAll(async () => {
    await env?.close();
  });

  function task(scenario: string, overrides: Partial<TravelAgentInput> = {}) {
    const tripId = `trip_${randomUUID().slice(0, 8)}`;
    const input: TravelAgentInput = {
      prompt: `Book trip_id=${tripId} for Ada Lovelace: AMS→LIS on 2026-05-04, a hotel in Lisbon for three nights and a car.`,
      customerId: 'ada',
      scenario,
      compensationRetry: { initialInterval: '100 milliseconds', maximumAttempts: 3 },
      ...overrides,
    };
    return { tripId, workflowId: `travel-${tripId}`, input };
  }
  type Task = ReturnType<typeof task>;

  const start = (t: Task) =>
    env.client.workflow.start(travelAgent, {
      taskQueue: env.taskQueue,
      workflowId: t.workflowId,
      args: [t.input],
    });
  const run = async (t: Task) => (await start(t)).result();

  /** The tool calls' keys by tool name (the first call of each). */
  const keyOf = (calls: { name: string; key?: string }[], name: string) =>
    calls.find((c) => c.name === name)?.key;

  it('books flight, hotel and car once each: three confirmed reservations, one commit each', async () => {
    const t = task('travel-happy-path');
    const result = await run(t);
    expect(result.status).toBe('completed');
    expect(result.finalText).toContain(t.tripId);
    expect(result.toolCalls.map((c) => [c.name, c.outcome])).toEqual([
      ['get_trip', 'read'],
      ['book_flight', 'executed'],
      ['book_hotel', 'executed'],
      ['rent_car', 'executed'],
      ['get_trip', 'read'],
    ]);
    const once = { status: 'confirmed', commits: 1, cancels: 0 };
    expect(env.reservation('flights', keyOf(result.toolCalls, 'book_flight'))).toMatchObject(once);
    expect(env.reservation('hotels', keyOf(result.toolCalls, 'book_hotel'))).toMatchObject(once);
    expect(env.reservation('cars', keyOf(result.toolCalls, 'rent_car'))).toMatchObject(once);
    expect(result.saga.status).toBe('completed');
    expect(result.saga.steps.map((s) => s.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    const description = await env.client.workflow.getHandle(t.workflowId).describe();
    expect(description.typedSearchAttributes.get(TASK_STATUS)).toBe('completed');
  });

  it('replays a hotel the model books again in a later turn: one reservation, the call told "replayed"', async () => {
    const t = task('travel-rebook-hotel');
    const result = await run(t);
    expect(result.status).toBe('completed');
    const hotels = result.toolCalls.filter((c) => c.name === 'book_hotel');
    expect(hotels.map((c) => c.outcome)).toEqual(['executed', 'replayed']);
    expect(hotels[0]?.key).toBeDefined();
    expect(hotels[1]?.key).toBe(hotels[0]?.key);
    expect(result.duplicatesPrevented).toBe(1);
    expect(env.reservation('hotels', hotels[0]?.key)).toMatchObject({ commits: 1, status: 'confirmed' });
    // One saga step for the hotel, not two: the replay registers nothing new to cancel.
    expect(result.saga.steps).toHaveLength(3);
  });

  it('refuses the same hotel with other terms as a conflict, told to the model: the first booking stands', async () => {
    const t = task('travel-hotel-new-terms');
    const result = await run(t);
    expect(result.status).toBe('completed');
    const hotels = result.toolCalls.filter((c) => c.name === 'book_hotel');
    expect(hotels.map((c) => c.outcome)).toEqual(['executed', 'conflict']);
    expect(hotels[1]?.key).toBe(hotels[0]?.key);
    expect(env.reservation('hotels', hotels[0]?.key)).toMatchObject({ status: 'confirmed', commits: 1 });
    expect(result.finalText).toContain('240.00 EUR');
  });

  it('aborts on a sold-out hotel: the flight is cancelled, in reverse, and the hotel API is not asked to cancel', async () => {
    const t = task('travel-hotel-sold-out');
    const hotelsBefore = env.sandbox.audit().hotels.reservations;
    const result = await run(t);
    expect(result.status).toBe('compensated');
    expect(result.reason).toContain('abort_task: no rooms left in Atlantis');
    const hotel = result.toolCalls.find((c) => c.name === 'book_hotel');
    expect(hotel).toMatchObject({ outcome: 'error' });
    expect(hotel?.error).toContain('no rooms left in Atlantis');
    expect(env.reservation('flights', keyOf(result.toolCalls, 'book_flight'))).toMatchObject({
      status: 'cancelled',
      commits: 1,
      cancels: 1,
    });
    expect(env.sandbox.audit().hotels.reservations).toBe(hotelsBefore);
    expect(result.saga.steps.map((s) => [s.name.split(' ')[0], s.status])).toEqual([
      ['book_flight', 'compensated'],
      ['book_hotel', 'compensated'],
    ]);
    const activities = await env.scheduledActivities(t.workflowId);
    expect(activities.slice(-2)).toEqual(['cancelHotel', 'cancelFlight']);
    // The hotel's cancellation read the booking's recorded outcome (sold out) and did not call the API.
    expect(await env.activityResults(t.workflowId, 'cancelHotel')).toEqual([
      expect.objectContaining({
        outcome: 'executed',
        result: expect.objectContaining({
          status: 'nothing_to_cancel',
          reason: 'ended in SOLD_OUT',
        }) as unknown,
      }),
    ]);
    expect(await env.activityResults(t.workflowId, 'cancelFlight')).toEqual([
      expect.objectContaining({ result: expect.objectContaining({ status: 'cancelled' }) as unknown }),
    ]);
    // Sold out is final: booked once, not retried.
    expect(await env.attempts(t.workflowId, 'bookHotel')).toEqual([1]);
  });

  it('survives a booking answer lost after commit: Temporal retries with the same reference, one reservation', async () => {
    const t = task('travel-happy-path');
    const dropped = env.sandbox.faults.injected().drop_after_commit;
    env.sandbox.faults.dropNextResponseAfterCommit('hotels');
    const result = await run(t);
    expect(result.status).toBe('completed');
    expect(env.sandbox.faults.injected().drop_after_commit).toBe(dropped + 1);
    expect(await env.attempts(t.workflowId, 'bookHotel')).toEqual([2]);
    const key = keyOf(result.toolCalls, 'book_hotel');
    expect(env.reservation('hotels', key)).toMatchObject({ status: 'confirmed', commits: 1 });
    // The retry reached the API with the reference of the lost attempt and was answered with its booking.
    const transcript = await env.client.workflow.getHandle(t.workflowId).query(transcriptQuery);
    const hotelUse = result.toolCalls.find((c) => c.name === 'book_hotel')?.toolUseId;
    const answer = transcript
      .flatMap((m): unknown[] => (typeof m.content === 'string' ? [] : m.content))
      .find((b) => (b as { tool_use_id?: string }).tool_use_id === hotelUse);
    expect(JSON.stringify(answer)).toContain('\\"replayedDownstream\\":true');
  });

  async function waitForApproval(workflowId: string) {
    const handle = env.client.workflow.getHandle(workflowId);
    for (let i = 0; i < 200; i++) {
      const status = await handle.query(agentStatusQuery).catch(() => undefined);
      if (status?.status === 'waiting_approval') return { handle, status };
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('no approval requested');
  }

  it('holds a hotel over the policy for a person; approved, it is booked and the trip completes', async () => {
    const t = task('travel-hotel-approval');
    const hotelsBefore = env.sandbox.audit().hotels.reservations;
    const handle = await start(t);
    const { status } = await waitForApproval(t.workflowId);
    expect(status.pendingApproval).toMatchObject({ tool: 'book_hotel' });
    expect(status.pendingApproval?.reason).toContain('exceeds the policy limit of 300.00 EUR');
    expect((await handle.describe()).typedSearchAttributes.get(TASK_STATUS)).toBe('waiting_approval');
    expect(env.sandbox.audit().hotels.reservations).toBe(hotelsBefore);
    const pending = await handle.executeUpdate(approveUpdate, { args: [{ by: 'travel-desk@example.com' }] });
    expect(pending.tool).toBe('book_hotel');
    const result = await handle.result();
    expect(result.status).toBe('completed');
    expect(result.toolCalls.map((c) => [c.name, c.outcome])).toEqual([
      ['book_flight', 'executed'],
      ['book_hotel', 'executed'],
      ['rent_car', 'executed'],
    ]);
    expect(env.reservation('hotels', keyOf(result.toolCalls, 'book_hotel'))).toMatchObject({
      status: 'confirmed',
      commits: 1,
    });
  });

  it('does not book a hotel a person denies; the model aborts and the flight is cancelled', async () => {
    const t = task('travel-hotel-approval');
    const hotelsBefore = env.sandbox.audit().hotels.reservations;
    const handle = await start(t);
    await waitForApproval(t.workflowId);
    await handle.executeUpdate(denyUpdate, { args: [{ note: 'over budget' }] });
    const result = await handle.result();
    expect(result.status).toBe('compensated');
    expect(result.toolCalls.find((c) => c.name === 'book_hotel')).toMatchObject({
      outcome: 'denied',
      error: 'over budget',
    });
    expect(env.sandbox.audit().hotels.reservations).toBe(hotelsBefore);
    expect(env.reservation('flights', keyOf(result.toolCalls, 'book_flight'))).toMatchObject({
      status: 'cancelled',
      cancels: 1,
    });
    expect((await handle.query(sagaStateQuery)).status).toBe('compensated');
  });

  it('raises the limit per task: under maxHotelCents the same hotel needs no approval', async () => {
    const t = task('travel-hotel-approval', { maxHotelCents: 50_000 });
    const result = await run(t);
    expect(result.status).toBe('completed');
    expect(result.toolCalls.map((c) => c.outcome)).toEqual(['executed', 'executed', 'executed']);
  });
});
