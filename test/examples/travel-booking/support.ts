/**
 * A travel-booking test environment built from onceflow's public entry points, as a user's own test
 * suite would build it: `createTestEnv` from `onceflow/testing` on the run's Temporal dev server and
 * Postgres (vitest global setup), the scripted model playing the example's scenarios, the example's
 * workflows and activities on a task queue of its own, plus the reservations sandbox.
 */
import type { Worker } from '@temporalio/worker';
import { createTestEnv, type ScriptedModel, type TestEnv } from 'onceflow/testing';
import { inject } from 'vitest';
import { createTravelActivities, reservationReference } from '../../../examples/travel-booking/activities.js';
import {
  createTravelClient,
  startTravelSandbox,
  type ReferenceAudit,
  type ResourceKind,
  type TravelSandbox,
} from '../../../examples/travel-booking/sandbox/index.js';
import { SCENARIOS_DIR, WORKFLOWS_PATH } from '../../../examples/travel-booking/worker.js';

export interface TravelEnv extends TestEnv {
  sandbox: TravelSandbox;
  model: ScriptedModel;
  worker: Worker;
  /** The reservation of `kind` booked under the intent key `key`, as the sandbox's audit has it. */
  reservation(kind: ResourceKind, key: string | undefined): ReferenceAudit | undefined;
}

export async function createTravelEnv(): Promise<TravelEnv> {
  const sandbox = await startTravelSandbox();
  let env: TestEnv;
  try {
    env = await createTestEnv({
      workflowsPath: WORKFLOWS_PATH,
      activities: createTravelActivities(createTravelClient(sandbox.url, { timeoutMs: 5_000 })),
      scenariosDir: SCENARIOS_DIR,
      temporalAddress: inject('temporalAddress'),
      namespace: inject('namespace'),
      databaseUrl: inject('databaseUrl'),
      migrate: false, // the global setup migrated the run's database
    });
  } catch (err) {
    await sandbox.close();
    throw err;
  }
  const close = async () => {
    try {
      await env.close();
    } finally {
      await sandbox.close();
    }
  };
  try {
    const worker = await env.startWorker();
    return {
      ...env,
      model: env.model!,
      sandbox,
      worker,
      reservation: (kind, key) =>
        key === undefined ? undefined : sandbox.audit()[kind].references[reservationReference(key)],
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
