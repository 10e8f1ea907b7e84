/**
 * The travel example's task kinds, as a backend starts them through `onceflowApi` or `startTask`:
 * `travel` (a prompt for the travel agent) and `trip` (the trip saga, no model).
 */
import { agentTask, defineTask, type TaskKind } from 'onceflow/client';
import { z } from 'zod';
import { travelAgent } from './agent.js';
import { tripWorkflow } from './trip-saga.js';

const day = z.iso.date();
const cents = z.number().int().positive();

/** `{"kind": "travel", "prompt": …, "maxHotelCents"?: …}`: a task for the travel agent. */
export const travelTaskKind = agentTask(travelAgent, {
  kind: 'travel',
  extend: {
    maxHotelCents: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe('Hotel stays above this many minor units wait for a person.'),
  },
  description: 'A travel agent task: a prompt naming the trip_id to book.',
});

/** `{"kind": "trip", "tripId": …, "flight": {…}, "hotel": {…}, "car": {…}}`: the trip saga. */
export const tripTaskKind = defineTask({
  kind: 'trip',
  workflow: tripWorkflow,
  description: 'A trip saga with no model: flight, hotel, car; cancelled in reverse on failure.',
  input: z.object({
    tripId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
    traveller: z.string().min(1).max(200),
    currency: z.string().regex(/^[A-Z]{3}$/),
    flight: z.strictObject({
      from: z.string().length(3),
      to: z.string().length(3),
      date: day,
      priceCents: cents,
    }),
    hotel: z.strictObject({ city: z.string().min(1), checkIn: day, checkOut: day, priceCents: cents }),
    car: z.strictObject({ city: z.string().min(1), pickUp: day, dropOff: day, priceCents: cents }),
    maxHotelCents: z.number().int().min(0).optional().describe('Hotel stays above this wait for a person.'),
  }),
  summary: (trip) => `trip ${trip.tripId} for ${trip.traveller}`,
});

/** What the travel example's backend starts. */
export const TRAVEL_TASKS: readonly TaskKind[] = [travelTaskKind, tripTaskKind];
