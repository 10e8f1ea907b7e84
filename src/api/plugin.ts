/**
 * `onceflow/api`: the HTTP API over your task kinds as a Fastify plugin — start with dedup by
 * `Idempotency-Key`, inspect, approve, cancel, follow — and the codec server for the Web UI and the
 * `temporal` CLI.
 */
export { buildApi, onceflowApi, startApi, type ApiOptions } from './server.js';
export { codecServer, type CodecServerOptions } from './codec-server.js';
export { ApiError } from './errors.js';
export {
  agentTask,
  defineTask,
  TaskRegistry,
  type AgentTaskOptions,
  type TaskKind,
  type TaskKindSpec,
} from '../tasks/index.js';
