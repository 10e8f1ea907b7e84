import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AesGcmCodec } from '../../src/codec/aes-gcm.js';
import { agentWorkflow } from '../../examples/order-ops/workflows.js';
import { runCli } from '../support/cli.js';
import { createTestEnv, type TestEnv } from '../support/env.js';

interface ReplayJson {
  results: { workflowId: string; runId: string; ok: boolean; error?: string }[];
}

describe('onceflow replay and reset on encrypted runs (the `npm start` default)', () => {
  const k1 = randomBytes(32);
  const codec = new AesGcmCodec(new Map([['k1', k1]]), 'k1');
  const keyK1 = `k1:${k1.toString('base64')}`;
  const rotated = `k2:${randomBytes(32).toString('base64')},${keyK1}`;
  let env: TestEnv;
  // An empty data dir: no codec.key, so the CLI has a codec only when ONCEFLOW_CODEC_KEY says so.
  const dataDir = mkdtempSync(join(tmpdir(), 'onceflow-replay-test-'));

  beforeAll(async () => {
    env = await createTestEnv({ codec });
    await env.startWorker();
  });
  afterAll(async () => {
    await env.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const cli = (codecKey: string | undefined, ...args: string[]) =>
    runCli(env.taskQueue, args, {
      ONCEFLOW_DATA_DIR: dataDir,
      ...(codecKey ? { ONCEFLOW_CODEC_KEY: codecKey } : {}),
    });

  /** An encrypted agent run, reset to its first workflow task and finished again: two runs, one ID. */
  async function resetTask(scenario: string): Promise<{ workflowId: string; runIds: string[] }> {
    const id = randomUUID().slice(0, 8);
    await env.pool.query('INSERT INTO customers (customer_id, name, email) VALUES ($1, $2, $3)', [
      `cust_${id}`,
      'Replay',
      `replay-${id}@example.com`,
    ]);
    const workflowId = `cli-replay-${id}`;
    const handle = await env.client.workflow.start(agentWorkflow, {
      taskQueue: env.taskQueue,
      workflowId,
      args: [
        {
          prompt: `Order for customer_id=cust_${id} email=replay-${id}@example.com as order_id=ord_${id}.`,
          customerId: `cust_${id}`,
          scenario,
        },
      ],
    });
    expect((await handle.result()).status).toBe('completed');
    const reset = await cli(keyK1, 'reset', workflowId, '--to', 'first-workflow-task', '--json');
    expect(reset.stderr).toBe('');
    expect(reset.code, reset.stdout + reset.stderr).toBe(0);
    const { runId } = JSON.parse(reset.stdout) as { runId: string };
    expect(
      (await env.client.workflow.getHandle<typeof agentWorkflow>(workflowId, runId).result()).status,
    ).toBe('completed');
    return { workflowId, runIds: [handle.firstExecutionRunId, runId] };
  }

  let task: { workflowId: string; runIds: string[] };
  beforeAll(async () => {
    // With effects: the reset run reconciles the steps it inherited, which has to replay as well.
    task = await resetTask('agent-happy-path');
  }, 120_000);

  const okFor = (out: { stdout: string }, workflowId: string) =>
    (JSON.parse(out.stdout) as ReplayJson).results.filter((r) => r.workflowId === workflowId);

  it('replays every run of a reset task, the earlier run too, with the codec key', async () => {
    const out = await cli(keyK1, 'replay', task.workflowId, '--json');
    expect(out.code, out.stdout + out.stderr).toBe(0);
    const results = okFor(out, task.workflowId);
    expect(results.map((r) => r.runId).sort()).toEqual([...task.runIds].sort());
    expect(results.every((r) => r.ok)).toBe(true);

    const human = await cli(keyK1, 'replay', task.workflowId);
    expect(human.code, human.stdout + human.stderr).toBe(0);
    for (const runId of task.runIds) expect(human.stdout).toContain(`OK   ${task.workflowId} ${runId}`);
  }, 180_000);

  it('replay --all replays each run it lists by workflow ID and run ID', async () => {
    const out = await cli(
      keyK1,
      'replay',
      '--all',
      '--query',
      `WorkflowId = '${task.workflowId}'`,
      '--limit',
      '10',
      '--json',
    );
    expect(out.code, out.stdout + out.stderr).toBe(0);
    const results = okFor(out, task.workflowId);
    expect(results.map((r) => r.runId).sort()).toEqual([...task.runIds].sort());
    expect(results.every((r) => r.ok)).toBe(true);

    const limited = await cli(
      keyK1,
      'replay',
      '--all',
      '--query',
      `WorkflowId = '${task.workflowId}'`,
      '--limit',
      '1',
      '--json',
    );
    expect(limited.code, limited.stdout + limited.stderr).toBe(0);
    expect((JSON.parse(limited.stdout) as ReplayJson).results).toHaveLength(1);
  }, 180_000);

  it('still replays after the key is rotated (new key first, the old one still listed)', async () => {
    const one = await cli(rotated, 'replay', task.workflowId, '--json');
    expect(one.code, one.stdout + one.stderr).toBe(0);
    expect(okFor(one, task.workflowId)).toHaveLength(2);
    const all = await cli(
      rotated,
      'replay',
      '--all',
      '--query',
      `WorkflowId = '${task.workflowId}'`,
      '--json',
    );
    expect(all.code, all.stdout + all.stderr).toBe(0);
    expect(okFor(all, task.workflowId).every((r) => r.ok)).toBe(true);
  }, 180_000);

  it('without the key, each run fails with one clear line saying what to set', async () => {
    const out = await cli(undefined, 'replay', task.workflowId, '--json');
    expect(out.code, out.stdout + out.stderr).toBe(1);
    const results = okFor(out, task.workflowId);
    expect(results).toHaveLength(2);
    for (const r of results) {
      expect(r.ok).toBe(false);
      expect(r.error).toMatch(/encrypted.*key k1.*ONCEFLOW_CODEC_KEY/);
    }
    const human = await cli(undefined, 'replay', task.workflowId);
    expect(human.code, human.stdout + human.stderr).toBe(1);
    expect(human.stderr).toBe('');
    expect(human.stdout.trim().split('\n')).toHaveLength(2);
    expect(human.stdout).toMatch(/^FAIL /);

    const wrongKey = await cli(
      `k2:${randomBytes(32).toString('base64')}`,
      'replay',
      task.workflowId,
      '--json',
    );
    expect(wrongKey.code, wrongKey.stdout + wrongKey.stderr).toBe(1);
    for (const r of okFor(wrongKey, task.workflowId)) expect(r.error).toMatch(/key k1.*k2/);
  }, 180_000);

  it('an unknown task is one clear line and exit code 1', async () => {
    const out = await cli(keyK1, 'replay', `no-such-task-${randomUUID()}`);
    expect(out.code, out.stdout + out.stderr).toBe(1);
    expect(out.stderr.trim().split('\n')).toHaveLength(1);
    expect(out.stderr).toMatch(/not found/i);
  }, 60_000);
});
