import Anthropic from '@anthropic-ai/sdk';
import { MockActivityEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import { createModelActivities } from '../../src/activities/model.js';
import { ORDER_TOOLS } from '../../examples/order-ops/tools.js';
import type { ModelRequest, ModelResponse } from '../../src/tools/messages.js';

// Runs only with a real key; every path it touches is also covered by the sandbox tests.
describe.skipIf(!process.env.ANTHROPIC_API_KEY)('callModel against the real Anthropic API', () => {
  it('returns content blocks, a stop reason and usage for a tool-use prompt', async () => {
    const anthropic = new Anthropic({ apiKey: process.env.ANTHROPIC_API_KEY, maxRetries: 0 });
    const activities = createModelActivities(anthropic, {
      model: process.env.ANTHROPIC_MODEL ?? 'claude-sonnet-4-6',
      maxTokens: 512,
    });
    const request: ModelRequest = {
      system: 'You are an order-operations agent. Use the tools.',
      messages: [{ role: 'user', content: 'Look up customer cust_42 with the lookup_customer tool.' }],
      tools: ORDER_TOOLS.map((t) => t.schema()),
    };
    const response: ModelResponse = await new MockActivityEnvironment().run(
      (r: ModelRequest) => activities.callModel(r),
      request,
    );
    expect(response.content.length).toBeGreaterThan(0);
    expect(['tool_use', 'end_turn']).toContain(response.stopReason);
    expect(response.usage.inputTokens).toBeGreaterThan(0);
  });
});
