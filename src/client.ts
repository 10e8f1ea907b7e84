import {
  Client,
  Connection,
  type ClientOptions,
  type ClientPlugin,
  type ConnectionOptions,
} from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import { SEARCH_ATTRIBUTES } from './workflows/search-attributes.js';

/** A connected client plus the connection to close. */
export interface OnceflowClient {
  client: Client;
  connection: Connection;
  close: () => Promise<void>;
}

/** Connects a Temporal client (with the payload codec, when given) to `address` (default `TEMPORAL_ADDRESS`, then localhost:7233). */
export async function connectClient(
  address: string | ConnectionOptions = process.env.TEMPORAL_ADDRESS ?? 'localhost:7233',
  namespace = process.env.TEMPORAL_NAMESPACE ?? 'default',
  codec?: PayloadCodec,
): Promise<OnceflowClient> {
  const connection = await Connection.connect(typeof address === 'string' ? { address } : address);
  const client = new Client({
    connection,
    namespace,
    ...(codec ? { dataConverter: { payloadCodecs: [codec] } } : {}),
  });
  return { client, connection, close: () => connection.close() };
}

/** Link to a workflow run in the Temporal Web UI. */
export function uiLink(uiUrl: string, namespace: string, workflowId: string, runId?: string): string {
  const base = `${uiUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${base}/${encodeURIComponent(runId)}/history` : base;
}

/**
 * Registers onceflow's search attributes on a server we did not start (`TEMPORAL_ADDRESS`).
 * Idempotent: attributes already present are left alone.
 */
export async function ensureSearchAttributes(
  connection: Pick<Connection, 'operatorService'>,
  namespace: string,
): Promise<void> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const missing = SEARCH_ATTRIBUTES.filter((key) => !(key.name in (existing.customAttributes ?? {})));
  if (missing.length === 0) return;
  const typeCode: Record<string, number> = {
    KEYWORD: 2,
    INT: 3,
    TEXT: 1,
    DOUBLE: 4,
    BOOL: 5,
    DATETIME: 6,
    KEYWORD_LIST: 7,
  };
  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(missing.map((key) => [key.name, typeCode[key.type] ?? 2])),
  });
}

/**
 * The client side of the onceflow plugin: adds the payload codec to a Temporal client, so it reads
 * and writes what codec-encrypting workers do. `new Client({ connection, plugins: [onceflowClient({ codec })] })`.
 */
export class OnceflowClientPlugin implements ClientPlugin {
  readonly name = 'onceflow';
  constructor(private readonly options: { codec?: PayloadCodec | undefined }) {}

  configureClient(options: Omit<ClientOptions, 'plugins'>): Omit<ClientOptions, 'plugins'> {
    const codec = this.options.codec;
    if (!codec) return options;
    const codecs = options.dataConverter?.payloadCodecs ?? [];
    return { ...options, dataConverter: { ...options.dataConverter, payloadCodecs: [...codecs, codec] } };
  }
}

/** See {@link OnceflowClientPlugin}. */
export function onceflowClient(options: { codec?: PayloadCodec | undefined } = {}): OnceflowClientPlugin {
  return new OnceflowClientPlugin(options);
}

export { startTask, type StartTaskOptions, type TaskReceipt } from './tasks/start.js';
export {
  agentTask,
  defineTask,
  describeTask,
  listTasks,
  TaskRegistry,
  type AgentTaskOptions,
  type CreateTask,
  type TaskKind,
  type TaskKindSpec,
  type TaskService,
} from './tasks/index.js';
export { AesGcmCodec, codecFromEnv, resolveCodec } from './codec/aes-gcm.js';
export { taskEvents, TaskEventsError, type TaskEventsOptions } from './stream/sse-client.js';
export type {
  LiveToolOutcome,
  LiveToolResult,
  StreamEvent,
  StreamEventData,
  StreamEventKind,
} from './stream/events.js';
export { ensurePruneSchedule } from './schedules.js';
export { temporalConnectionOptions } from './temporal-connection.js';
