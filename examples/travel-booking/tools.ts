/**
 * The travel agent's tools, defined once with onceflow's public API: schema, key rule, compensation,
 * approval and summary. The travel agent and the hand-written trip saga both use them.
 *
 * Keys: a booking's identity is the trip plus which booking of the trip it is (the outbound or return
 * flight; the trip's hotel stay; the trip's rental car), so the same booking re-decided by the model,
 * retried by Temporal or replayed after a reset has one intent key, and so one reservation reference
 * at the travel API (see `./activities.ts`). Its terms (route, dates, price) are stable fields: the
 * same booking with other terms is a conflict told to the model, never a second reservation.
 */
import { abortTask, defineTool, type Tool } from 'onceflow';
import { z } from 'zod';
import type { CarInput, FlightInput, GetTripInput, HotelInput } from './types.js';

/** What the approval rules read; per task (see `TravelAgentInput.maxHotelCents`). */
export interface TravelPolicy {
  /** Hotel stays above this many minor units wait for a person's approval. */
  maxHotelCents: number;
}

const tripId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'letters, digits, _ or -, at most 64 characters')
  .describe('The business trip ID this booking belongs to, e.g. "trip_1001". Required.');
const iata = z.string().regex(/^[A-Z]{3}$/, 'a three-letter upper-case IATA airport code');
const date = z.iso.date('a calendar date as YYYY-MM-DD');
const person = z.string().trim().min(1).max(200);
const city = z.string().trim().min(1).max(200);
const priceCents = z
  .number()
  .int('an integer number of minor units (cents)')
  .positive()
  .max(100_000_000)
  .describe('Total price in minor units (cents), e.g. 18900 for 189.00.');
const currency = z
  .string()
  .regex(/^[A-Za-z]{3}$/, 'a three-letter ISO currency code')
  .transform((c) => c.toUpperCase())
  .describe('ISO currency code, e.g. "EUR".');
const note = z
  .string()
  .max(500)
  .optional()
  .describe('Free-text note for the record; not sent to the travel API and not part of the booking.');

const getTripInput = z.object({ trip_id: tripId });
const bookFlightInput = z.object({
  trip_id: tripId,
  leg: z
    .enum(['outbound', 'return'])
    .default('outbound')
    .describe('Which flight of the trip this is; a trip has at most one of each.'),
  from: iata.describe('Departure airport, e.g. "AMS".'),
  to: iata.describe('Arrival airport, e.g. "LIS".'),
  date: date.describe('Departure day, YYYY-MM-DD.'),
  passenger: person.describe('Full name of the passenger.'),
  price_cents: priceCents,
  currency,
  note,
});
const bookHotelInput = z
  .object({
    trip_id: tripId,
    city: city.describe('City of the hotel.'),
    check_in: date.describe('Check-in day, YYYY-MM-DD.'),
    check_out: date.describe('Check-out day, YYYY-MM-DD, after check_in.'),
    guest: person.describe('Full name of the guest.'),
    price_cents: priceCents,
    currency,
    note,
  })
  .refine((i) => i.check_out > i.check_in, { message: 'must be after check_in', path: ['check_out'] });
const rentCarInput = z
  .object({
    trip_id: tripId,
    city: city.describe('City where the car is picked up and dropped off.'),
    pick_up: date.describe('Pick-up day, YYYY-MM-DD.'),
    drop_off: date.describe('Drop-off day, YYYY-MM-DD, not before pick_up.'),
    driver: person.describe('Full name of the driver.'),
    price_cents: priceCents,
    currency,
    note,
  })
  .refine((i) => i.drop_off >= i.pick_up, { message: 'must not be before pick_up', path: ['drop_off'] });

const money = (cents: number, currency: string) => `${(cents / 100).toFixed(2)} ${currency}`;

export const bookFlight = defineTool({
  name: 'book_flight',
  description:
    'Book a flight for a trip. A trip has one outbound and one return flight: booking the same leg of the same trip_id again returns the first booking instead of booking twice.',
  input: bookFlightInput,
  kind: 'effect',
  activity: 'bookFlight',
  toActivityInput: (i): FlightInput => ({
    tripId: i.trip_id,
    leg: i.leg,
    from: i.from,
    to: i.to,
    date: i.date,
    passenger: i.passenger,
    priceCents: i.price_cents,
    currency: i.currency,
  }),
  effect: {
    identity: ['tripId', 'leg'],
    stable: ['from', 'to', 'date', 'passenger', 'priceCents', 'currency'],
  },
  compensation: {
    activity: 'cancelFlight',
    undo: 'cancel the flight reservation',
    input: (i, stepKey) => ({ tripId: i.trip_id, bookingKey: stepKey }),
    personAction: (i) =>
      `cancel the ${i.leg} flight ${i.from}→${i.to} on ${i.date} of trip ${i.trip_id} with the airline`,
  },
  summary: (i) => `book ${i.leg} flight ${i.from}→${i.to} ${i.date} for ${i.trip_id}`,
});

export const bookHotel = defineTool<typeof bookHotelInput, HotelInput, TravelPolicy>({
  name: 'book_hotel',
  description:
    "Book the hotel stay of a trip. A trip has one hotel stay: booking it again for the same trip_id returns the first booking instead of booking twice. Stays above the traveller's policy wait for a person's approval.",
  input: bookHotelInput,
  kind: 'effect',
  activity: 'bookHotel',
  toActivityInput: (i): HotelInput => ({
    tripId: i.trip_id,
    city: i.city,
    checkIn: i.check_in,
    checkOut: i.check_out,
    guest: i.guest,
    priceCents: i.price_cents,
    currency: i.currency,
  }),
  effect: {
    identity: ['tripId'],
    stable: ['city', 'checkIn', 'checkOut', 'guest', 'priceCents', 'currency'],
  },
  compensation: {
    activity: 'cancelHotel',
    undo: 'cancel the hotel reservation',
    input: (i, stepKey) => ({ tripId: i.trip_id, bookingKey: stepKey }),
    personAction: (i) =>
      `cancel the hotel stay in ${i.city} from ${i.check_in} to ${i.check_out} of trip ${i.trip_id} with the hotel`,
  },
  approval: (i, policy) =>
    i.price_cents > policy.maxHotelCents
      ? `hotel stay of ${money(i.price_cents, i.currency)} exceeds the policy limit of ${money(policy.maxHotelCents, i.currency)}`
      : undefined,
  summary: (i) => `book hotel in ${i.city} ${i.check_in}→${i.check_out} for ${i.trip_id}`,
});

export const rentCar = defineTool({
  name: 'rent_car',
  description:
    'Rent the car of a trip. A trip has one rental car: renting it again for the same trip_id returns the first rental instead of renting twice.',
  input: rentCarInput,
  kind: 'effect',
  activity: 'rentCar',
  toActivityInput: (i): CarInput => ({
    tripId: i.trip_id,
    city: i.city,
    pickUp: i.pick_up,
    dropOff: i.drop_off,
    driver: i.driver,
    priceCents: i.price_cents,
    currency: i.currency,
  }),
  effect: { identity: ['tripId'], stable: ['city', 'pickUp', 'dropOff', 'driver', 'priceCents', 'currency'] },
  compensation: {
    activity: 'cancelCar',
    undo: 'cancel the car rental',
    input: (i, stepKey) => ({ tripId: i.trip_id, bookingKey: stepKey }),
    personAction: (i) =>
      `cancel the car rental in ${i.city} from ${i.pick_up} to ${i.drop_off} of trip ${i.trip_id} with the rental company`,
  },
  summary: (i) => `rent car in ${i.city} ${i.pick_up}→${i.drop_off} for ${i.trip_id}`,
});

export const getTrip = defineTool({
  name: 'get_trip',
  description:
    'Show what is booked for a trip: its outbound and return flight, hotel stay and rental car, each with its status and price, or null when not booked. Read-only.',
  input: getTripInput,
  kind: 'read_only',
  activity: 'getTrip',
  // The references a trip's bookings have are derived from their intent keys in this task.
  toActivityInput: (i, ctx): GetTripInput => ({
    tripId: i.trip_id,
    keys: {
      outboundFlight: ctx.keyOf(bookFlight, { tripId: i.trip_id, leg: 'outbound' }),
      returnFlight: ctx.keyOf(bookFlight, { tripId: i.trip_id, leg: 'return' }),
      hotel: ctx.keyOf(bookHotel, { tripId: i.trip_id }),
      car: ctx.keyOf(rentCar, { tripId: i.trip_id }),
    },
  }),
  summary: (i) => `get trip ${i.trip_id}`,
});

/** Every tool the travel agent may call, in the order the model sees them. */
export const TRAVEL_TOOLS: readonly Tool[] = [getTrip, bookFlight, bookHotel, rentCar, abortTask];
