import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEmail } from '../../src/sandbox/audit.js';
import {
  boundToolUse,
  MAX_TOOL_INPUT_CHARS,
  MAX_TOOL_INPUT_STRING_CHARS,
  truncateText,
} from '../../src/tools/bounds.js';
import type { ToolUseBlock } from '../../src/tools/messages.js';
import { agentWorkflow } from '../../examples/order-ops/workflows.js';
import { transcriptQuery } from '../../src/workflows/index.js';
import { createTestEnv, type TestEnv } from '../support/env.js';

const use = (input: Record<string, unknown>): ToolUseBlock => ({
  type: 'tool_use',
  id: 'toolu_1',
  name: 'send_email',
  input,
});

describe('bounds on what enters the conversation', () => {
  it('keeps a tool input within bounds as it is', () => {
    const block = use({ body: 'short' });
    expect(boundToolUse(block)).toBe(block);
  });

  it('cuts a long string in a tool input with a note', () => {
    const bounded = boundToolUse(use({ body: 'x'.repeat(1 << 20), to: 'a@b.c' }));
    const body = bounded.input.body as string;
    expect(body.length).toBeLessThan(MAX_TOOL_INPUT_STRING_CHARS + 100);
    expect(body).toContain(`[truncated: ${(1 << 20) - MAX_TOOL_INPUT_STRING_CHARS} more characters`);
    expect(bounded.input.to).toBe('a@b.c');
  });

  it('replaces an input that is still too large with a note no schema accepts', () => {
    const many = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`f${i}`, 'y'.repeat(9_000)]));
    const bounded = boundToolUse(use(many));
    expect(Object.keys(bounded.input)).toEqual(['_truncated']);
    expect(JSON.stringify(bounded.input).length).toBeLessThan(MAX_TOOL_INPUT_CHARS);
  });

  it('truncates text past its bound only', () => {
    expect(truncateText('abc', 3)).toBe('abc');
    expect(truncateText('abcd', 3)).toBe('abc\n[truncated: 1 more characters not shown]');
  });

  describe('in an agent session', () => {
    let env: TestEnv;
    beforeAll(async () => {
      env = await createTestEnv();
      await env.startWorker();
    });
    afterAll(async () => {
      await env.close();
    });

    it('a megabyte tool input is cut before the next turn: the model gets is_error, nothing is sent, no retry storm', async () => {
      const id = randomUUID().slice(0, 8);
      const email = `big-${id}@example.com`;
      const workflowId = `oversize-${id}`;
      const started = Date.now();
      const result = await env.client.workflow.execute(agentWorkflow, {
        taskQueue: env.taskQueue,
        workflowId,
        args: [
          {
            prompt: `Tell email=${email} about order_id=ord_${id}.`,
            scenario: 'agent-oversize-input',
          },
        ],
      });
      expect(result.status).toBe('completed');
      expect(result.turns).toBe(2);
      expect(result.toolCalls[0]).toMatchObject({ name: 'send_email', outcome: 'invalid' });
      // Two model requests and no retries: well under one retry's backoff.
      expect(Date.now() - started).toBeLessThan(20_000);
      const transcript = await env.client.workflow.getHandle(workflowId).query(transcriptQuery);
      expect(JSON.stringify(transcript).length).toBeLessThan(MAX_TOOL_INPUT_CHARS);
      expect((await auditEmail(env.pool, { to: email })).recipients).toEqual([]);
    });
  });
});
