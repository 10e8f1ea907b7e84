import { describe, expect, it } from 'vitest';
import { intentOf as toolIntent, type Tool, type ToolContext } from 'onceflow';
import { reservationReference } from '../../../examples/travel-booking/activities.js';
import { REFERENCE_PATTERN } from '../../../examples/travel-booking/sandbox/index.js';
import {
  bookFlight,
  bookHotel,
  getTrip,
  rentCar,
  TRAVEL_TOOLS,
} from '../../../examples/travel-booking/tools.js';

/** A tool context outside a workflow: keys scoped to a fixed task ID. */
const ctx: ToolContext = { keyOf: (tool, input) => keyOf(tool, input) };
const keyOf = (tool: Tool, activityInput: object, scope = 'travel-trip_1') =>
  intentOf(tool, activityInput, scope).key;
function intentOf(tool: Tool, activityInput: object, scope = 'travel-trip_1') {
  return toolIntent(tool, scope, activityInput);
}

function prepared(tool: Tool, raw: unknown) {
  const out = tool.prepare(raw, ctx);
  if ('issues' in out) throw new Error(out.issues);
  return out.call;
}

const flight = {
  trip_id: 'trip_1',
  from: 'AMS',
  to: 'LIS',
  date: '2026-05-04',
  passenger: 'Ada Lovelace',
  price_cents: 18_900,
  currency: 'eur',
};
const hotel = {
  trip_id: 'trip_1',
  city: 'Lisbon',
  check_in: '2026-05-04',
  check_out: '2026-05-07',
  guest: 'Ada Lovelace',
  price_cents: 24_000,
  currency: 'EUR',
};

describe('travel tools: schemas, keys, approval', () => {
  it('offers the model five tools with JSON Schemas that require the trip_id', () => {
    expect(TRAVEL_TOOLS.map((t) => [t.name, t.kind])).toEqual([
      ['get_trip', 'read_only'],
      ['book_flight', 'effect'],
      ['book_hotel', 'effect'],
      ['rent_car', 'effect'],
      ['abort_task', 'control'],
    ]);
    for (const tool of [bookFlight, bookHotel, rentCar, getTrip]) {
      expect(tool.schema().input_schema).toMatchObject({
        type: 'object',
        required: expect.arrayContaining(['trip_id']) as unknown,
      });
    }
    // `leg` has a default: optional for the model.
    expect((bookFlight.schema().input_schema as { required: string[] }).required).not.toContain('leg');
  });

  it('maps snake_case input to the activity input, upper-casing the currency', () => {
    expect(prepared(bookFlight, flight).activityInput).toEqual({
      tripId: 'trip_1',
      leg: 'outbound',
      from: 'AMS',
      to: 'LIS',
      date: '2026-05-04',
      passenger: 'Ada Lovelace',
      priceCents: 18_900,
      currency: 'EUR',
    });
  });

  it('refuses invalid input with a line the model can act on', () => {
    const issues = (raw: unknown, tool: Tool = bookHotel) => {
      const out = tool.prepare(raw, ctx);
      return 'issues' in out ? out.issues : '';
    };
    expect(issues({ ...hotel, trip_id: undefined })).toContain('trip_id');
    expect(issues({ ...hotel, check_out: '2026-05-04' })).toContain('check_out: must be after check_in');
    expect(issues({ ...hotel, price_cents: 10.5 })).toContain('price_cents');
    expect(issues({ ...flight, from: 'ams' }, bookFlight)).toContain('from');
    expect(issues({ ...flight, date: '2026-02-30' }, bookFlight)).toContain('date');
  });

  it('keys a booking by trip and leg: the note and the terms never change the key, the terms change the fingerprint', () => {
    const key = (raw: object, tool: Tool = bookFlight) => intentOf(tool, prepared(tool, raw).activityInput);
    const first = key({ ...flight, note: 'window seat' });
    expect(key({ ...flight, note: 'aisle, please' })).toEqual(first); // free text: same intent, same terms
    const pricier = key({ ...flight, price_cents: 19_900 });
    expect(pricier.key).toBe(first.key); // same booking…
    expect(pricier.fingerprint).not.toBe(first.fingerprint); // …with other terms: a conflict
    expect(key({ ...flight, leg: 'return' }).key).not.toBe(first.key);
    expect(key({ ...flight, trip_id: 'trip_2' }).key).not.toBe(first.key);
    expect(key(hotel, bookHotel).key).not.toBe(first.key); // the tool is part of the key
    expect(intentOf(bookFlight, prepared(bookFlight, flight).activityInput, 'travel-trip_9').key).not.toBe(
      first.key,
    ); // another task
  });

  it('derives reservation references the travel API accepts from intent keys', () => {
    const k = keyOf(bookHotel, prepared(bookHotel, hotel).activityInput);
    expect(reservationReference(k)).toBe(k);
    expect(reservationReference(k)).toMatch(REFERENCE_PATTERN);
    expect(reservationReference(`${k}:undo`)).toMatch(REFERENCE_PATTERN);
    expect(reservationReference('x'.repeat(100))).toHaveLength(64);
  });

  it('reads the trip by the references its bookings have in this task', () => {
    const input = prepared(getTrip, { trip_id: 'trip_1' }).activityInput as { keys: Record<string, string> };
    expect(input.keys.hotel).toBe(keyOf(bookHotel, prepared(bookHotel, hotel).activityInput));
    expect(input.keys.outboundFlight).toBe(keyOf(bookFlight, prepared(bookFlight, flight).activityInput));
    expect(new Set(Object.values(input.keys)).size).toBe(4);
  });

  it('asks a person for a hotel over the policy limit, and only then', () => {
    const reason = (price: number, maxHotelCents = 30_000) =>
      prepared(bookHotel, { ...hotel, price_cents: price }).approvalReason({ maxHotelCents });
    expect(reason(30_000)).toBeUndefined();
    expect(reason(30_001)).toBe('hotel stay of 300.01 EUR exceeds the policy limit of 300.00 EUR');
    expect(reason(45_000, 50_000)).toBeUndefined();
    expect(
      prepared(bookFlight, { ...flight, price_cents: 900_000 }).approvalReason({ maxHotelCents: 1 }),
    ).toBeUndefined();
  });

  it('binds each booking to its cancellation under the step key', () => {
    const compensation = prepared(rentCar, {
      trip_id: 'trip_1',
      city: 'Lisbon',
      pick_up: '2026-05-04',
      drop_off: '2026-05-04',
      driver: 'Ada Lovelace',
      price_cents: 5_500,
      currency: 'EUR',
    }).compensation?.('ik_step');
    expect(compensation).toMatchObject({
      activity: 'cancelCar',
      undo: 'cancel the car rental',
      input: { tripId: 'trip_1', bookingKey: 'ik_step' },
      recovery: 'resume',
    });
    expect(compensation?.personAction).toContain('trip_1');
  });
});
