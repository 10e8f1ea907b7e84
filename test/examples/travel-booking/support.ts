/**
 * A travel-booking test environment built from onceflow's public entry points, as a user's own test
 * suite would build it: the run's Temporal dev server and Postgres (vitest global setup), the
 * reservations sandbox, the scripted model playing the example's scenarios, and the example's worker
 * on a task queue of its own.
 */
import { randomUUID } from 'node:crypto';
import Anthropic from '@anthropic-ai/sdk';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { createPool, startScriptedModel, type ScriptedModel } from 'onceflow/testing';
import type pg from 'pg';
import { inject } from 'vitest';
import { reservationReference } from '../../../examples/travel-booking/activities.js';
import {
  startTravelSandbox,
  type ReferenceAudit,
  type ResourceKind,
  type TravelSandbox,
} from '../../../examples/travel-booking/sandbox/index.js';
import { createTravelClient } from '../../../examples/travel-booking/sandbox/index.js';
import { createTravelWorker, SCENARIOS_DIR } from '../../../examples/travel-booking/worker.js';

export interface TravelEnv {
  pool: pg.Pool;
  sandbox: TravelSandbox;
  model: ScriptedModel;
  client: Client;
  taskQueue: string;
  worker: Worker;
  /** The reservation of `kind` booked under the intent key `key`, as the sandbox's audit has it. */
  reservation(kind: ResourceKind, key: string | undefined): ReferenceAudit | undefined;
  /** Activity types scheduled by the workflow, in history order. */
  scheduledActivities(workflowId: string): Promise<string[]>;
  /** How many attempts of `activity` the workflow's history shows started (the last attempt number). */
  attempts(workflowId: string, activity: string): Promise<number[]>;
  /** Results of the completed activities of type `activity`, decoded from history (plaintext JSON payloads). */
  activityResults<T = unknown>(workflowId: string, activity: string): Promise<T[]>;
  close(): Promise<void>;
}

function installRuntime(): void {
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // installed already in this process
  }
}

export async function createTravelEnv(): Promise<TravelEnv> {
  installRuntime();
  const address = inject('temporalAddress');
  const namespace = inject('namespace');
  const pool = createPool(inject('databaseUrl'), 4);
  const sandbox = await startTravelSandbox();
  const model = await startScriptedModel({ scenariosDir: SCENARIOS_DIR });
  const connection = await Connection.connect({ address });
  const nativeConnection = await NativeConnection.connect({ address });
  const client = new Client({ connection, namespace });
  const taskQueue = `travel-${randomUUID()}`;
  const worker = await createTravelWorker({
    connection: nativeConnection,
    namespace,
    taskQueue,
    pool,
    travel: createTravelClient(sandbox.url, { timeoutMs: 5_000 }),
    anthropic: new Anthropic({ baseURL: model.baseURL, apiKey: 'x', maxRetries: 0 }),
    migrate: false, // the global setup migrated the run's database
  });
  const running = worker.run();

  const history = async (workflowId: string) =>
    (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];

  return {
    pool,
    sandbox,
    model,
    client,
    taskQueue,
    worker,
    reservation: (kind, key) =>
      key === undefined ? undefined : sandbox.audit()[kind].references[reservationReference(key)],
    async scheduledActivities(workflowId) {
      return (await history(workflowId))
        .map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name)
        .filter((n): n is string => n !== undefined && n !== null);
    },
    async attempts(workflowId, activity) {
      const events = await history(workflowId);
      const scheduled = new Map<string, string>();
      for (const e of events) {
        const name = e.activityTaskScheduledEventAttributes?.activityType?.name;
        if (name) scheduled.set(String(e.eventId), name);
      }
      return events
        .filter((e) => {
          const started = e.activityTaskStartedEventAttributes;
          return started && scheduled.get(String(started.scheduledEventId)) === activity;
        })
        .map((e) => e.activityTaskStartedEventAttributes?.attempt ?? 0);
    },
    async activityResults<T>(workflowId: string, activity: string) {
      const events = await history(workflowId);
      const types = new Map<string, string>();
      for (const e of events) {
        const name = e.activityTaskScheduledEventAttributes?.activityType?.name;
        if (name) types.set(String(e.eventId), name);
      }
      return events.flatMap((e) => {
        const done = e.activityTaskCompletedEventAttributes;
        const data = done?.result?.payloads?.[0]?.data;
        if (!done || !data || types.get(String(done.scheduledEventId)) !== activity) return [];
        return [JSON.parse(Buffer.from(data).toString('utf8')) as T];
      });
    },
    async close() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running.catch(() => undefined);
      await nativeConnection.close();
      await connection.close();
      await model.close();
      await sandbox.close();
      await pool.end();
    },
  };
}
