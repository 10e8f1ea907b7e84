import { randomUUID } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { createTestEnv, type TestEnv } from '../support/env.js';

describe('the onceflow CLI against the real dev server', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await createTestEnv();
    await env.startWorker();
  });
  afterAll(async () => {
    await env.close();
  });

  // Away from a developer's .data/codec.key: the test worker reads plaintext payloads.
  const cli = (...args: string[]) =>
    runCli(env.taskQueue, args, { ONCEFLOW_DATA_DIR: join(tmpdir(), 'onceflow-cli-test') });

  async function customer() {
    const id = randomUUID().slice(0, 8);
    await env.pool.query('INSERT INTO customers (customer_id, name, email) VALUES ($1, $2, $3)', [
      `cust_${id}`,
      'Cli',
      `cli-${id}@example.com`,
    ]);
    return {
      id,
      prompt: `Order for customer_id=cust_${id} email=cli-${id}@example.com as order_id=ord_${id}.`,
    };
  }

  it('run --json starts a session, waits for it and prints the result', async () => {
    const { id, prompt } = await customer();
    const out = await cli(
      'run',
      prompt,
      '--customer',
      `cust_${id}`,
      '--scenario',
      'agent-happy-path',
      '--id',
      `cli-${id}`,
      '--json',
    );
    expect(out.code).toBe(0);
    const result = JSON.parse(out.stdout) as {
      status: string;
      workflowId: string;
      link: string;
      toolCalls: unknown[];
    };
    expect(result).toMatchObject({ status: 'completed', workflowId: `cli-${id}` });
    expect(result.toolCalls).toHaveLength(5);
    expect(result.link).toContain(`/workflows/cli-${id}/`);
  });

  it('run prints the model text live, each tool call with its outcome, then the result', async () => {
    const { id, prompt } = await customer();
    const out = await cli(
      'run',
      prompt,
      '--customer',
      `cust_${id}`,
      '--scenario',
      'agent-streamed-text',
      '--id',
      `cli-live-${id}`,
    );
    expect(out.code, out.stderr).toBe(0);
    // The text of both turns, as streamed, on stderr; the tool call line between them.
    const first = out.stderr.indexOf('I am looking up the customer before I do anything else');
    const call = out.stderr.search(/turn 1\s+lookup_customer\s+read/);
    const second = out.stderr.indexOf('The customer is known.');
    expect(first).toBeGreaterThanOrEqual(0);
    expect(call).toBeGreaterThan(first);
    expect(second).toBeGreaterThan(call);
    expect(out.stderr.split('The customer is known.')).toHaveLength(2); // once
    expect(out.stdout).toMatch(/^completed: The customer is known\./);
  });

  it('run --kind order --input @file starts the order saga; an unknown kind names the known ones', async () => {
    const { id } = await customer();
    const file = join(tmpdir(), `order-${id}.json`);
    writeFileSync(
      file,
      JSON.stringify({
        order: {
          orderId: `ord_${id}`,
          customerId: `cust_${id}`,
          email: `cli-${id}@example.com`,
          items: [{ sku: 'mug', quantity: 1, unitAmount: 1200 }],
          currency: 'eur',
          shippingAddress: {
            name: 'Ada',
            line1: '1 Loop St',
            city: 'Lyon',
            postalCode: '69001',
            country: 'FR',
          },
        },
      }),
    );
    try {
      const out = await cli(
        'run',
        '--kind',
        'order',
        '--input',
        `@${file}`,
        '--id',
        `cli-ord-${id}`,
        '--json',
      );
      expect(out.code, out.stderr).toBe(0);
      expect(JSON.parse(out.stdout)).toMatchObject({
        workflowId: `cli-ord-${id}`,
        result: { orderId: `ord_${id}`, status: 'completed', amount: 1200 },
      });
      const description = await env.client.workflow.getHandle(`cli-ord-${id}`).describe();
      expect(description.type).toBe('orderWorkflow');

      const unknown = await cli('run', 'hello', '--kind', 'refund', '--json');
      expect(unknown.code).toBe(1);
      expect(JSON.parse(unknown.stdout)).toEqual({
        error: 'INVALID_REQUEST: --kind: expected one of agent, order, support, got refund',
      });
      const bad = await cli('run', '--kind', 'order', '--input', '{"order":{}}', '--json');
      expect(bad.code).toBe(1);
      expect(bad.stdout).toContain('order.orderId');
    } finally {
      rmSync(file, { force: true });
    }
  });

  it('run --kind support takes the scenario from --input (no flag) and opens the ticket through the MCP desk', async () => {
    const id = randomUUID().slice(0, 8);
    const input = JSON.stringify({
      prompt: `Open ticket_ref=T-cli-${id} customer_id=cust_cli_${id}`,
      scenario: 'desk-ticket',
    });
    const out = await cli(
      'run',
      '--kind',
      'support',
      '--input',
      input,
      '--id',
      `cli-support-${id}`,
      '--json',
    );
    expect(out.code, out.stderr).toBe(0);
    const result = JSON.parse(out.stdout) as {
      status: string;
      toolCalls: { name: string; outcome: string }[];
    };
    expect(result.status).toBe('completed');
    expect(result.toolCalls.map((c) => [c.name, c.outcome])).toEqual([['create_ticket', 'executed']]);
    const { rows } = await env.pool.query('SELECT 1 FROM sandbox.mcp_tickets WHERE ticket_ref = $1', [
      `T-cli-${id}`,
    ]);
    expect(rows).toHaveLength(1);
  });

  it('run --id of a finished task prints its result and starts no second run', async () => {
    const { id, prompt } = await customer();
    const args = ['run', prompt, '--customer', `cust_${id}`, '--id', `cli-again-${id}`, '--json'];
    const first = await cli(...args);
    expect(first.code).toBe(0);
    const { runId } = await env.client.workflow.getHandle(`cli-again-${id}`).describe();
    const turns = await modelRequests(prompt);
    expect(turns).toBe(5);

    const again = await cli(...args);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({
      status: 'completed',
      workflowId: `cli-again-${id}`,
      runId,
      replayed: true,
    });
    await new Promise((r) => setTimeout(r, 1000));
    const runs: string[] = [];
    for await (const wf of env.client.workflow.list({ query: `WorkflowId = 'cli-again-${id}'` }))
      runs.push(wf.runId);
    expect(runs).toEqual([runId]);
    expect(await modelRequests(prompt)).toBe(turns);

    const other = await cli('run', `${prompt} Twice.`, '--id', `cli-again-${id}`, '--json');
    expect(other.code).toBe(1);
    expect((JSON.parse(other.stdout) as { error: string }).error).toMatch(/^IDEMPOTENCY_KEY_REUSED/);
  });

  async function modelRequests(prompt: string): Promise<number> {
    const response = await fetch(new URL('/__admin/stats', env.sandbox.addresses.model.baseURL));
    const stats = (await response.json()) as { conversations: Record<string, number> };
    return stats.conversations[prompt] ?? 0;
  }

  it('status prints the task; an unknown task is one clear line and exit code 1', async () => {
    const { id, prompt } = await customer();
    await cli('run', prompt, '--scenario', 'agent-happy-path', '--id', `cli-st-${id}`, '--json');
    const out = await cli('status', `cli-st-${id}`, '--json');
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout)).toMatchObject({ status: 'completed', kind: 'agent' });
    const missing = await cli('status', 'no-such-task');
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('replay says OK on a recorded run and reports the violation against deliberately changed code', async () => {
    const { id, prompt } = await customer();
    await cli('run', prompt, '--scenario', 'agent-happy-path', '--id', `cli-rp-${id}`, '--json');
    const ok = await cli('replay', `cli-rp-${id}`, '--json');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ results: [{ workflowId: `cli-rp-${id}`, ok: true }] });

    // The same workflow type, now sleeping before it starts: history no longer matches.
    const changed = join('src', 'workflows', `.changed-${id}.ts`);
    writeFileSync(
      changed,
      `export * from './index.js';\nimport { sleep } from '@temporalio/workflow';\nimport { agentWorkflow as original } from './agent.js';\n` +
        `export async function agentWorkflow(input: Parameters<typeof original>[0]) { await sleep(1); return original(input); }\n`,
    );
    try {
      const bad = await cli('replay', `cli-rp-${id}`, '--workflows', changed, '--json');
      expect(bad.code).toBe(1);
      const results = (JSON.parse(bad.stdout) as { results: { ok: boolean; error: string }[] }).results;
      expect(results[0]?.ok).toBe(false);
      expect(results[0]?.error).toMatch(/nondetermin/i);
    } finally {
      rmSync(changed, { force: true });
    }
  }, 180_000);

  it('ledger --json shows the duplicate prevented when the model asked for the same charge twice', async () => {
    const { id, prompt } = await customer();
    await cli('run', prompt, '--scenario', 'agent-repeat-charge', '--id', `cli-lg-${id}`, '--json');
    const out = await cli('ledger', '--scope', `cli-lg-${id}`, '--json');
    expect(out.code).toBe(0);
    const stats = JSON.parse(out.stdout) as { executed: number; replayed: number };
    expect(stats.replayed).toBe(1);
    expect(stats.executed).toBe(2); // create_order and charge_payment
  });

  it('reset --to before:chargePayment re-runs from there with no second charge', async () => {
    const { id, prompt } = await customer();
    await cli('run', prompt, '--scenario', 'agent-happy-path', '--id', `cli-rs-${id}`, '--json');
    const out = await cli('reset', `cli-rs-${id}`, '--to', 'before:chargePayment', '--json');
    expect(out.code).toBe(0);
    const { runId } = JSON.parse(out.stdout) as { runId: string };
    await env.client.workflow.getHandle(`cli-rs-${id}`, runId).result();
    const { rows } = await env.pool.query(
      `SELECT 1 FROM sandbox.payment_intents WHERE metadata ->> 'order_id' = $1 AND status = 'succeeded'`,
      [`ord_${id}`],
    );
    expect(rows).toHaveLength(1);
  });
});
