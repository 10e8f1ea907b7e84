import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { TestEnv } from '../support/env.js';

/** A fresh customer and the body of an agent task acting for it (the scripted sandbox model). */
export async function agentTask(env: TestEnv, scenario = 'agent-happy-path') {
  const id = randomUUID().slice(0, 8);
  await env.pool.query('INSERT INTO customers (customer_id, name, email) VALUES ($1, $2, $3)', [
    `cust_${id}`,
    'Api',
    `api-${id}@example.com`,
  ]);
  return {
    id,
    body: {
      kind: 'agent' as const,
      prompt: `Order for customer_id=cust_${id} email=api-${id}@example.com as order_id=ord_${id}.`,
      customerId: `cust_${id}`,
      scenario,
    },
  };
}

/** How many requests the sandbox model received for the conversation that starts with `prompt`. */
export async function modelRequests(env: TestEnv, prompt: string): Promise<number> {
  const response = await fetch(new URL('/__admin/stats', env.sandbox.addresses.model.baseURL));
  const stats = (await response.json()) as { conversations: Record<string, number> };
  return stats.conversations[prompt] ?? 0;
}

/** Every run Temporal's visibility store lists for a workflow ID. */
export async function runsOf(client: Client, workflowId: string): Promise<string[]> {
  const runs: string[] = [];
  for await (const wf of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push(wf.runId);
  return runs;
}

/** Polls `probe` every 100 ms until it holds, for at most `ms`. */
export async function eventually(probe: () => Promise<boolean>, ms = 10_000): Promise<boolean> {
  for (const deadline = Date.now() + ms; Date.now() < deadline;) {
    if (await probe()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return probe();
}
