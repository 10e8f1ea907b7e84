/**
 * `onceflow/api`: the HTTP API (Fastify 5) over your task kinds — start with dedup by
 * `Idempotency-Key`, inspect, approve, cancel, follow — and the codec server for the Web UI and the
 * `temporal` CLI.
 */
export { buildApi, startApi, type ApiOptions } from './server.js';
export { codecServer } from './codec-server.js';
