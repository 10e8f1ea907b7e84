import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandboxFixture } from './support.js';

describe('model sandbox: scripted turns through @anthropic-ai/sdk', () => {
  let fx: Awaited<ReturnType<typeof sandboxFixture>>;
  let anthropic: Anthropic;
  beforeAll(async () => {
    fx = await sandboxFixture();
    anthropic = new Anthropic({
      apiKey: 'sk-ant-sandbox',
      baseURL: fx.sandbox.addresses.model.baseURL,
      maxRetries: 0,
    });
  });
  afterAll(async () => {
    await fx.close();
  });

  const tools: Anthropic.Tool[] = [
    {
      name: 'lookup_customer',
      description: 'look up',
      input_schema: { type: 'object', properties: { customer_id: { type: 'string' } } },
    },
  ];
  const headers = { 'x-onceflow-scenario': 'two-turn-tool-use' };

  it('plays a two-turn tool-use conversation with stop_reason and usage', async () => {
    const messages: Anthropic.MessageParam[] = [{ role: 'user', content: 'Who is customer_id=cust_42?' }];
    const first = await anthropic.messages.create(
      { model: 'claude-sonnet-4-6', max_tokens: 256, messages, tools },
      { headers },
    );
    expect(first.stop_reason).toBe('tool_use');
    expect(first.usage.input_tokens).toBeGreaterThan(0);
    expect(first.usage.output_tokens).toBeGreaterThan(0);
    const toolUse = first.content.find((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use');
    expect(toolUse).toMatchObject({ name: 'lookup_customer', input: { customer_id: 'cust_42' } });
    messages.push({ role: 'assistant', content: first.content });
    messages.push({
      role: 'user',
      content: [{ type: 'tool_result', tool_use_id: toolUse?.id ?? '', content: '{"name":"Ada Lovelace"}' }],
    });
    const second = await anthropic.messages.create(
      { model: 'claude-sonnet-4-6', max_tokens: 256, messages, tools },
      { headers },
    );
    expect(second.stop_reason).toBe('end_turn');
    expect(second.content).toEqual([{ type: 'text', text: 'cust_42 is Ada.' }]);
    // Stateless: the same conversation asked again gets the same answer (a retried turn).
    const again = await anthropic.messages.create(
      { model: 'claude-sonnet-4-6', max_tokens: 256, messages, tools },
      { headers },
    );
    expect(again.id).toBe(second.id);
  });

  it('fails loudly when the tool results do not match what the scenario expects', async () => {
    const first = await anthropic.messages.create(
      { model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'customer_id=cust_1' }], tools },
      { headers },
    );
    const toolUse = first.content.find((b) => b.type === 'tool_use');
    const error = await anthropic.messages
      .create(
        {
          model: 'm',
          max_tokens: 10,
          tools,
          messages: [
            { role: 'user', content: 'customer_id=cust_1' },
            { role: 'assistant', content: first.content },
            {
              role: 'user',
              content: [
                { type: 'tool_result', tool_use_id: toolUse?.id ?? '', content: 'nobody', is_error: true },
              ],
            },
          ],
        },
        { headers },
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect(String((error as Error).message)).toContain('is_error=false');
  });

  it('rejects malformed requests with a 400 in Anthropic’s error shape', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }, 'model'],
      [{ model: 'm', max_tokens: 0, messages: [{ role: 'user', content: 'hi' }] }, 'max_tokens'],
      [{ model: 'm', max_tokens: 10, messages: [] }, 'messages'],
      [
        { model: 'm', max_tokens: 10, messages: [{ role: 'assistant', content: 'hi' }] },
        'roles must alternate',
      ],
      [
        {
          model: 'm',
          max_tokens: 10,
          messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'x', content: '' }] }],
        },
        'tool_result',
      ],
    ];
    for (const [body, mentions] of cases) {
      const response = await fetch(`${fx.sandbox.addresses.model.baseURL}/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': 'k', 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
      expect(response.status).toBe(400);
      const json = (await response.json()) as { type: string; error: { type: string; message: string } };
      expect(json.type).toBe('error');
      expect(json.error.type).toBe('invalid_request_error');
      expect(json.error.message).toContain(mentions);
    }
    const notJson = await fetch(`${fx.sandbox.addresses.model.baseURL}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': 'k' },
      body: '{nope',
    });
    expect(notJson.status).toBe(400);
    expect(
      (await fetch(`${fx.sandbox.addresses.model.baseURL}/v1/messages`, { headers: { 'x-api-key': 'k' } }))
        .status,
    ).toBe(405);
    expect((await fetch(`${fx.sandbox.addresses.model.baseURL}/v2/else`)).status).toBe(404);
  });

  it('rejects an unknown scenario through the SDK as a BadRequestError', async () => {
    const error = await anthropic.messages
      .create(
        { model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] },
        { headers: { 'x-onceflow-scenario': 'no-such-scenario' } },
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
  });

  it('injects an overloaded error before answering, then answers', async () => {
    fx.sandbox.faults.model.set([{ match: { scenario: 'two-turn-tool-use' }, fault: 'fail_before_commit' }]);
    const request = {
      model: 'm',
      max_tokens: 10,
      messages: [{ role: 'user' as const, content: 'customer_id=c' }],
      tools,
    };
    const error = await anthropic.messages.create(request, { headers }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect(error).toMatchObject({ status: 529 });
    expect((await anthropic.messages.create(request, { headers })).stop_reason).toBe('tool_use');
  });
});
