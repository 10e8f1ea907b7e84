/** The travel agent: a system prompt, the travel tools and the approval policy over hotel prices. */
import { defineAgent, type AgentInput } from 'onceflow/workflow';
import { TRAVEL_TOOLS, type TravelPolicy } from './tools.js';

/** Input of {@link travelAgent}: the engine's agent input plus the traveller's hotel policy. */
export interface TravelAgentInput extends AgentInput {
  /** Hotel stays above this many minor units wait for a person. Default 30 000 (300.00). */
  maxHotelCents?: number;
}

const SYSTEM =
  'You are a travel-booking agent. Book the flights, hotel and rental car the traveller asks for with the tools. ' +
  'Every booking needs the trip_id it belongs to; a trip has one outbound and one return flight, one hotel stay ' +
  'and one rental car. If a tool says a booking was already made, do not book it again; use get_trip to see what ' +
  'is booked. If the trip cannot be booked as asked (sold out, not approved), call abort_task so every booking ' +
  'made so far is cancelled.';

/** The travel agent's workflow; its type name `travelAgent` is what running tasks and histories use. */
export const travelAgent = defineAgent<TravelAgentInput, TravelPolicy>({
  name: 'travelAgent',
  system: SYSTEM,
  tools: TRAVEL_TOOLS,
  policy: (input) => ({ maxHotelCents: input.maxHotelCents ?? 30_000 }),
});
