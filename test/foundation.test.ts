import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pingWorkflow } from '../src/workflows/index.js';
import { createTestEnv, type TestEnv } from './support/env.js';

describe('foundation: real dev server and real Postgres', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await createTestEnv();
  });
  afterAll(async () => {
    await env.close();
  });

  it('runs a workflow whose activity writes a row to Postgres', async () => {
    await env.startWorker();
    const workflowId = `ping-${Date.now()}`;
    const result = await env.client.workflow.execute(pingWorkflow, {
      taskQueue: env.taskQueue,
      workflowId,
      args: ['hello'],
    });
    const { rows } = await env.pool.query<{ task_id: string; detail: { message: string } }>(
      'SELECT task_id, detail FROM task_events WHERE id = $1',
      [result.eventId],
    );
    expect(rows).toEqual([{ task_id: workflowId, detail: { message: 'hello' } }]);
  });

  it('replays the workflow from history without re-running its activity', async () => {
    const taskQueue = `${env.taskQueue}-nocache`;
    await env.startWorker({ taskQueue, maxCachedWorkflows: 0 });
    const workflowId = `ping-replay-${Date.now()}`;
    await env.client.workflow.execute(pingWorkflow, { taskQueue, workflowId, args: ['once'] });
    const { rows } = await env.pool.query('SELECT 1 FROM task_events WHERE task_id = $1', [workflowId]);
    expect(rows).toHaveLength(1);
  });

  it('registers the custom search attributes on the server', async () => {
    const { customAttributes } = await env.client.connection.operatorService.listSearchAttributes({
      namespace: env.namespace,
    });
    expect(Object.keys(customAttributes ?? {})).toEqual(
      expect.arrayContaining(['OnceflowStatus', 'OnceflowSagaState', 'OnceflowCustomer', 'OnceflowKind']),
    );
  });
});
