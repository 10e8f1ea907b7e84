/**
 * The travel reservations sandbox: a local HTTP booking service for flights, hotels and cars whose
 * idempotency is a client-chosen reservation reference, with one-shot fault injection and an audit;
 * plus a typed client of it.
 */
export { startTravelSandbox, type TravelSandbox, type TravelSandboxOptions } from './server.js';
export {
  createTravelClient,
  TravelApiError,
  type ReserveResult,
  type TravelClient,
  type TravelClientOptions,
} from './client.js';
export { TravelFaults, type FaultedOperation, type TravelFault } from './faults.js';
export type { KindAudit, ReferenceAudit, TravelAudit } from './store.js';
export * from './types.js';
