import Anthropic from '@anthropic-ai/sdk';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NO_TOOL_TEXT } from '../../src/sandbox/model-output.js';
import { sandboxFixture } from './support.js';

const LONG = 'stream-long-text';
const tools: Anthropic.Tool[] = [
  {
    name: 'lookup_customer',
    description: 'look up',
    input_schema: { type: 'object', properties: { customer_id: { type: 'string' } } },
  },
  { name: 'other_tool', description: 'unused', input_schema: { type: 'object', properties: {} } },
];

/** `finalMessage()` without the SDK's own `parsed_output` (for structured outputs; null here). */
async function final(stream: { finalMessage(): Promise<Anthropic.Message & { parsed_output?: unknown }> }) {
  const { parsed_output, ...message } = await stream.finalMessage();
  expect(parsed_output).toBeNull();
  return message;
}

describe('model sandbox: streaming and request fields through @anthropic-ai/sdk', () => {
  let fx: Awaited<ReturnType<typeof sandboxFixture>>;
  let client: Anthropic;
  let baseURL: string;
  beforeAll(async () => {
    fx = await sandboxFixture();
    baseURL = fx.sandbox.addresses.model.baseURL;
    client = new Anthropic({ apiKey: 'x', baseURL, maxRetries: 0 });
  });
  afterEach(() => {
    fx.sandbox.faults.model.clear();
  });
  afterAll(async () => {
    await fx.close();
  });

  const headers = (scenario = LONG) => ({ headers: { 'x-onceflow-scenario': scenario } });
  /** Turn 1 of stream-long-text: one long text block. */
  const longText = (extra: Partial<Anthropic.MessageCreateParamsNonStreaming> = {}) => ({
    model: 'claude-sonnet-4-6',
    max_tokens: 1024,
    messages: [{ role: 'user' as const, content: 'Summarize customer_id=cust_7 for me.' }],
    ...extra,
  });
  let fullText = '';
  /** Turn 2 of stream-long-text: a short text, then a lookup_customer call. */
  const toolTurn = (extra: Partial<Anthropic.MessageCreateParamsNonStreaming> = {}) => ({
    model: 'claude-sonnet-4-6',
    max_tokens: 1024,
    tools,
    messages: [
      { role: 'user' as const, content: 'Summarize customer_id=cust_7 for me.' },
      { role: 'assistant' as const, content: fullText },
      { role: 'user' as const, content: 'Look the customer up again.' },
    ],
    ...extra,
  });

  beforeAll(async () => {
    const first = await client.messages.create(longText(), headers());
    fullText = first.content[0]?.type === 'text' ? first.content[0].text : '';
    expect(fullText.length).toBeGreaterThan(300);
  });

  it('streams text in several deltas whose concatenation is the text; finalMessage equals create()', async () => {
    const deltas: string[] = [];
    const stream = client.messages.stream(longText(), headers()).on('text', (delta) => deltas.push(delta));
    const streamed = await final(stream);
    const created = await client.messages.create(longText(), headers());
    expect(deltas.length).toBeGreaterThan(20);
    expect(deltas.join('')).toBe(fullText);
    expect(streamed).toEqual(created);
    expect(streamed).toMatchObject({
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: expect.any(Number) as number, output_tokens: Math.ceil(fullText.length / 4) },
    });
    expect(stream.request_id).toBe(`req_${created.id.slice(4)}`);
    // Deterministic: the same conversation streamed again is the same message.
    expect(await final(client.messages.stream(longText(), headers()))).toEqual(streamed);
  });

  it('streams a tool call as input_json_delta pieces and emits each finished content block', async () => {
    const partials: string[] = [];
    const blocks: Anthropic.ContentBlock[] = [];
    const stream = client.messages
      .stream(toolTurn(), headers())
      .on('inputJson', (partial) => partials.push(partial))
      .on('contentBlock', (block) => blocks.push(block));
    const streamed = await final(stream);
    const created = await client.messages.create(toolTurn(), headers());
    expect(streamed).toEqual(created);
    expect(streamed.stop_reason).toBe('tool_use');
    expect(partials.length).toBeGreaterThan(2);
    const input = { customer_id: 'cust_7', fields: ['name', 'email', 'orders'] };
    expect(JSON.parse(partials.join(''))).toEqual(input);
    expect(blocks.map((b) => b.type)).toEqual(['text', 'tool_use']);
    expect(blocks[1]).toMatchObject({ id: 'toolu_stream_1', name: 'lookup_customer', input });
  });

  it('yields the raw event sequence of the real API from create({ stream: true })', async () => {
    const events: Anthropic.RawMessageStreamEvent[] = [];
    const stream = await client.messages.create({ ...toolTurn(), stream: true }, headers());
    for await (const event of stream) events.push(event);
    const types = events.map((e) =>
      e.type === 'content_block_delta' ? `${e.type}:${e.index}:${e.delta.type}` : e.type,
    );
    // Collapse runs of deltas: the number of pieces is not the point here.
    expect(types.filter((t, i) => t !== types[i - 1])).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta:0:text_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta:1:input_json_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    const start = events[0] as Anthropic.RawMessageStartEvent;
    expect(start.message).toMatchObject({ content: [], stop_reason: null, stop_sequence: null });
    expect(start.message.usage).toMatchObject({
      input_tokens: expect.any(Number) as number,
      output_tokens: 1,
    });
    expect(events.filter((e) => e.type === 'content_block_start').map((e) => e.content_block)).toEqual([
      { type: 'text', text: '' },
      { type: 'tool_use', id: 'toolu_stream_1', name: 'lookup_customer', input: {} },
    ]);
    const delta = events.at(-2) as Anthropic.RawMessageDeltaEvent;
    const created = await client.messages.create(toolTurn(), headers());
    expect(delta.delta).toMatchObject({ stop_reason: 'tool_use', stop_sequence: null });
    expect(delta.usage).toEqual({ output_tokens: created.usage.output_tokens });
  });

  it('writes SSE frames as `event: <type>\\ndata: <json>\\n\\n`, with a ping after message_start', async () => {
    const response = await fetch(`${baseURL}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': 'k', 'content-type': 'application/json', ...headers().headers },
      body: JSON.stringify({ ...longText(), stream: true }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const text = await response.text();
    expect(text.endsWith('\n\n')).toBe(true);
    const frames = text.slice(0, -2).split('\n\n');
    const types = frames.map((frame) => {
      const match = /^event: (\w+)\ndata: (.+)$/.exec(frame);
      expect(match, frame).not.toBeNull();
      const data = JSON.parse(match?.[2] ?? '') as { type: string };
      expect(data.type).toBe(match?.[1]);
      return data.type;
    });
    expect(types.slice(0, 4)).toEqual([
      'message_start',
      'ping',
      'content_block_start',
      'content_block_delta',
    ]);
    expect(types.slice(-3)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
  });

  it('cuts the text before a stop sequence and drops what follows, streamed or not', async () => {
    const request = longText({ stop_sequences: ['never there', '---'] });
    const created = await client.messages.create(request, headers());
    expect(created).toMatchObject({
      content: [{ type: 'text', text: fullText.slice(0, fullText.indexOf('---')) }],
      stop_reason: 'stop_sequence',
      stop_sequence: '---',
    });
    expect(await final(client.messages.stream(request, headers()))).toEqual(created);
    // A stop in the text before a tool call: the call is never made.
    const beforeTool = await client.messages.create(toolTurn({ stop_sequences: ['again'] }), headers());
    expect(beforeTool).toMatchObject({
      content: [{ type: 'text', text: 'Let me look up cust_7 ' }],
      stop_reason: 'stop_sequence',
      stop_sequence: 'again',
    });
  });

  it('cuts the text at max_tokens with stop_reason max_tokens, streamed or not', async () => {
    const request = longText({ max_tokens: 20 });
    const created = await client.messages.create(request, headers());
    expect(created).toMatchObject({
      content: [{ type: 'text', text: fullText.slice(0, 80) }],
      stop_reason: 'max_tokens',
      usage: { output_tokens: 20 },
    });
    const deltas: string[] = [];
    const streamed = await final(
      client.messages.stream(request, headers()).on('text', (d) => deltas.push(d)),
    );
    expect(streamed).toEqual(created);
    expect(deltas.join('')).toBe(fullText.slice(0, 80));
  });

  it('honours tool_choice none, any and tool', async () => {
    const none = await client.messages.create(toolTurn({ tool_choice: { type: 'none' } }), headers());
    expect(none).toMatchObject({
      content: [{ type: 'text', text: 'Let me look up cust_7 again.' }],
      stop_reason: 'end_turn',
    });
    // A turn of tool calls only: what is left is a short text.
    const onlyTools = await client.messages.create(
      {
        model: 'm',
        max_tokens: 256,
        tools,
        tool_choice: { type: 'none' },
        messages: [{ role: 'user', content: 'order_id=ord_1 customer_id=cust_1' }],
      },
      headers('agent-invalid-response'),
    );
    expect(onlyTools).toMatchObject({
      content: [{ type: 'text', text: NO_TOOL_TEXT }],
      stop_reason: 'end_turn',
    });

    // Forced tool use: the real API answers with the call and no text before it.
    for (const choice of [{ type: 'any' }, { type: 'tool', name: 'lookup_customer' }] as const) {
      const forced = await client.messages.create(toolTurn({ tool_choice: choice }), headers());
      expect(forced.stop_reason).toBe('tool_use');
      expect(forced.content).toEqual([
        expect.objectContaining({ type: 'tool_use', name: 'lookup_customer', id: 'toolu_stream_1' }),
      ]);
      expect(await final(client.messages.stream(toolTurn({ tool_choice: choice }), headers()))).toEqual(
        forced,
      );
    }
  });

  it('answers 400 when the scripted turn cannot satisfy tool_choice, or tool_choice is malformed', async () => {
    const cases: [Anthropic.MessageCreateParamsNonStreaming, string][] = [
      [longText({ tools, tool_choice: { type: 'any' } }), 'cannot satisfy tool_choice'],
      [toolTurn({ tool_choice: { type: 'tool', name: 'other_tool' } }), 'cannot satisfy tool_choice'],
      [toolTurn({ tool_choice: { type: 'tool', name: 'no_such_tool' } }), 'tool_choice.name'],
      [longText({ tool_choice: { type: 'auto' } }), 'tool_choice'],
    ];
    for (const [request, mentions] of cases) {
      const error = await client.messages.create(request, headers()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Anthropic.BadRequestError);
      expect(error).toMatchObject({ error: { error: { type: 'invalid_request_error' } } });
      expect((error as Error).message).toContain(mentions);
      // Streamed, the same error comes before the stream starts: an HTTP 400, not an error event.
      const streamError = await client.messages
        .stream(request, headers())
        .finalMessage()
        .catch((e: unknown) => e);
      expect(streamError).toBeInstanceOf(Anthropic.BadRequestError);
      expect((streamError as Error).message).toContain(mentions);
    }
  });

  it('validates temperature, top_p, top_k, metadata, system, stream and stop_sequences like the API', async () => {
    // This SDK's types no longer list the sampling parameters; the API takes them, so send them anyway.
    const sampling = { temperature: 1.5 } as Partial<Anthropic.MessageCreateParamsNonStreaming>;
    const error = await client.messages.create(longText(sampling), headers()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect((error as Error).message).toContain('temperature');

    const cases: [Record<string, unknown>, string][] = [
      [{ temperature: -0.1 }, 'temperature'],
      [{ temperature: 'hot' }, 'temperature'],
      [{ top_p: 1.2 }, 'top_p'],
      [{ top_k: 2.5 }, 'top_k'],
      [{ top_k: -1 }, 'top_k'],
      [{ metadata: { user_id: 5 } }, 'metadata.user_id'],
      [{ metadata: { other: 'x' } }, 'metadata.other'],
      [{ system: 5 }, 'system'],
      [{ system: [{ type: 'image' }] }, 'system.0'],
      [{ stream: 'yes' }, 'stream'],
      [{ stop_sequences: 'END' }, 'stop_sequences'],
      [{ stop_sequences: [' '] }, 'stop_sequences.0'],
      [{ tool_choice: { type: 'sometimes' }, tools }, 'tool_choice.type'],
    ];
    for (const [fields, mentions] of cases) {
      const response = await fetch(`${baseURL}/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': 'k', 'content-type': 'application/json', ...headers().headers },
        body: JSON.stringify({ ...longText(), ...fields }),
      });
      expect(response.status, JSON.stringify(fields)).toBe(400);
      const json = (await response.json()) as { error: { type: string; message: string } };
      expect(json.error.type).toBe('invalid_request_error');
      expect(json.error.message).toContain(mentions);
    }

    const valid = {
      temperature: 0.5,
      top_p: 0.9,
      top_k: 40,
      metadata: { user_id: 'user-1' },
      system: [{ type: 'text', text: 'You are terse.' }],
    } as Partial<Anthropic.MessageCreateParamsNonStreaming>;
    expect((await client.messages.create(longText(valid), headers())).stop_reason).toBe('end_turn');
  });

  it('counts tokens as usage.input_tokens reports them', async () => {
    const { max_tokens: _unused, ...prompt } = toolTurn({ system: 'You are terse.' });
    const counted = await client.messages.countTokens(prompt);
    const created = await client.messages.create(toolTurn({ system: 'You are terse.' }), headers());
    expect(counted).toEqual({ input_tokens: created.usage.input_tokens });
    expect(counted.input_tokens).toBeGreaterThan(10);

    const withMaxTokens = await client.messages
      .countTokens({ ...prompt, max_tokens: 10 } as Anthropic.MessageCountTokensParams)
      .catch((e: unknown) => e);
    expect(withMaxTokens).toBeInstanceOf(Anthropic.BadRequestError);
    expect((withMaxTokens as Error).message).toContain('max_tokens');
  });

  it('paces a slow_stream: the first delta arrives well before the message ends', async () => {
    fx.sandbox.faults.model.set([
      { match: { path: '/v1/messages', scenario: LONG }, fault: 'slow_stream', latencyMs: 20 },
    ]);
    const started = Date.now();
    let firstText = 0;
    const stream = client.messages.stream(longText(), headers()).on('text', () => {
      firstText ||= Date.now();
    });
    const message = await stream.finalMessage();
    const ended = Date.now();
    expect(message.content).toEqual([{ type: 'text', text: fullText }]);
    expect(firstText - started).toBeLessThan(500);
    expect(ended - firstText).toBeGreaterThan(1000);

    // A plain request hit by slow_stream waits latencyMs, then answers.
    fx.sandbox.faults.model.set([{ match: { scenario: LONG }, fault: 'slow_stream', latencyMs: 300 }]);
    const before = Date.now();
    expect((await client.messages.create(longText(), headers())).content).toEqual(message.content);
    expect(Date.now() - before).toBeGreaterThanOrEqual(290);
  });

  it('hang_mid_stream sends part of the text, then never ends until the client aborts', async () => {
    fx.sandbox.faults.model.set([
      { match: { path: '/v1/messages', scenario: LONG }, fault: 'hang_mid_stream' },
    ]);
    const abort = new AbortController();
    let text = '';
    const stream = client.messages
      .stream(longText(), { ...headers(), signal: abort.signal })
      .on('text', (delta) => (text += delta));
    let settled = false;
    const outcome = stream.finalMessage().then(
      () => (settled = true),
      (e: unknown) => e,
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(settled).toBe(false);
    expect(stream.ended).toBe(false);
    abort.abort();
    expect(await outcome).toBeInstanceOf(Anthropic.APIUserAbortError);
    expect(text.length).toBeGreaterThan(0);
    expect(text.length).toBeLessThan(fullText.length);
    expect(fullText.startsWith(text)).toBe(true);

    // A plain request hit by it just hangs.
    fx.sandbox.faults.model.set([{ match: { scenario: LONG }, fault: 'hang_mid_stream' }]);
    const plain = client.messages.create(longText(), { ...headers(), signal: AbortSignal.timeout(300) });
    expect(await plain.catch((e: unknown) => e)).toBeInstanceOf(Anthropic.APIUserAbortError);
  });

  it('error_mid_stream ends the stream with an error event the SDK raises as an APIError', async () => {
    fx.sandbox.faults.model.set([{ match: { scenario: LONG }, fault: 'error_mid_stream' }]);
    let text = '';
    const error = await client.messages
      .stream(longText(), headers())
      .on('text', (delta) => (text += delta))
      .finalMessage()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect(error).toMatchObject({
      status: undefined,
      error: { type: 'error', error: { type: 'overloaded_error' } },
    });
    expect(text.length).toBeGreaterThan(0);
    expect(fullText.startsWith(text)).toBe(true);

    // Not streamed, it is an overloaded 529 before any answer.
    fx.sandbox.faults.model.set([{ match: { scenario: LONG }, fault: 'error_mid_stream' }]);
    expect(await client.messages.create(longText(), headers()).catch((e: unknown) => e)).toMatchObject({
      status: 529,
    });
  });

  it('drop_after_commit drops a stream halfway: the SDK reports a broken connection, not a message', async () => {
    fx.sandbox.faults.model.set([{ match: { scenario: LONG }, fault: 'drop_after_commit' }]);
    let text = '';
    const error = await client.messages
      .stream(longText(), headers())
      .on('text', (delta) => (text += delta))
      .finalMessage()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.AnthropicError);
    expect(text.length).toBeGreaterThan(0);
    expect(text.length).toBeLessThan(fullText.length);
    // The retry gets the whole answer.
    const again = await client.messages.stream(longText(), headers()).finalMessage();
    expect(again.content).toEqual([{ type: 'text', text: fullText }]);
  });

  it('validates the new fault kinds like the others', async () => {
    const post = (rules: unknown) =>
      fetch(`${baseURL}/__admin/faults`, { method: 'POST', body: JSON.stringify({ rules }) });
    expect((await post([{ fault: 'slow_stream' }])).status).toBe(400);
    expect((await post([{ fault: 'slow_stream', latencyMs: 5 }, { fault: 'hang_mid_stream' }])).status).toBe(
      200,
    );
    expect((await post([{ fault: 'hang_mid_streams' }])).status).toBe(400);
  });
});
