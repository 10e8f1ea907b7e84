import { randomBytes, randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AesGcmCodec } from '../../src/codec/aes-gcm.js';
import type { ConversationContext, Message } from '../../src/tools/messages.js';
import { chainOf, EMPTY_CHAIN, linkMessage } from '../../src/transcript/digest.js';
import { TranscriptGapError } from '../../src/transcript/errors.js';
import { TranscriptStore } from '../../src/transcript/store.js';
import { testPool } from '../idempotency/helpers.js';

const conversation = (): Message[] => [
  { role: 'user', content: 'Please refund order_id=ord_1 for customer_id=cust_1.' },
  {
    role: 'assistant',
    content: [{ type: 'tool_use', id: 'toolu_1', name: 'lookup_customer', input: { customer_id: 'cust_1' } }],
  },
  { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: '{"name":"Ada"}' }] },
  { role: 'assistant', content: [{ type: 'text', text: 'Refunded.' }] },
];

const context: ConversationContext = {
  system: 'You are an order-operations agent.',
  tools: [{ name: 'lookup_customer', description: 'Look up a customer', input_schema: { type: 'object' } }],
};
/** The digest the workflow sends: the context, then the messages. */
const digest = (messages: unknown[]) => chainOf([context, ...messages]);

describe('transcript digest chain', () => {
  it('extends one message at a time to the digest of the whole transcript', () => {
    const messages = conversation();
    let chain = EMPTY_CHAIN;
    for (const m of messages) chain = linkMessage(chain, m);
    expect(chain).toBe(chainOf(messages));
    expect(chainOf(messages.slice(0, 3))).not.toBe(chain);
  });

  it('ignores key order but not content or order of messages', () => {
    const [first, second] = conversation();
    const reordered = { content: first!.content, role: first!.role };
    expect(chainOf([reordered])).toBe(chainOf([first]));
    expect(chainOf([second, first])).not.toBe(chainOf([first, second]));
    expect(chainOf([{ role: 'user', content: 'Please refund order_id=ord_2' }])).not.toBe(chainOf([first]));
  });
});

describe('TranscriptStore', () => {
  let pool: pg.Pool;
  beforeAll(() => {
    pool = testPool(4);
  });
  afterAll(async () => {
    await pool.end();
  });

  const id = () => `ns/agent-${randomUUID()}`;

  it('rebuilds the context and the whole transcript from what each turn appends', async () => {
    const store = new TranscriptStore(pool);
    const messages = conversation();
    const conversationId = id();
    const first = await store.extend({
      conversationId,
      base: 0,
      append: messages.slice(0, 1),
      context,
      digest: digest(messages.slice(0, 1)),
    });
    expect(first).toEqual({ context, messages: messages.slice(0, 1) });
    const all = await store.extend({
      conversationId,
      base: 1,
      append: messages.slice(1),
      digest: digest(messages),
    });
    expect(all).toEqual({ context, messages });
    const { rows } = await pool.query<{ seq: number }>(
      'SELECT seq FROM transcript_messages WHERE conversation_id = $1 ORDER BY seq',
      [conversationId],
    );
    expect(rows.map((r) => r.seq)).toEqual([-1, 0, 1, 2, 3]);
  });

  it('reports a gap when the context or the messages before base were never stored', async () => {
    const store = new TranscriptStore(pool);
    const messages = conversation();
    const attempt = store.extend({
      conversationId: id(),
      base: 2,
      append: messages.slice(2),
      digest: digest(messages),
    });
    await expect(attempt).rejects.toBeInstanceOf(TranscriptGapError);
    await expect(attempt).rejects.toMatchObject({ code: 'TRANSCRIPT_GAP', retryable: false });
    const conversationId = id();
    await store.extend({
      conversationId,
      base: 0,
      append: messages.slice(0, 1),
      context,
      digest: digest(messages.slice(0, 1)),
    });
    await pool.query('DELETE FROM transcript_messages WHERE conversation_id = $1 AND seq = 0', [
      conversationId,
    ]);
    await expect(
      store.extend({
        conversationId,
        base: 1,
        append: messages.slice(1, 2),
        digest: digest(messages.slice(0, 2)),
      }),
    ).rejects.toThrow(/has 0 of 2 messages stored/);
  });

  it('reports a gap when a stored message or the context differs from the workflow’s; a full resend repairs it', async () => {
    const store = new TranscriptStore(pool);
    const messages = conversation();
    const conversationId = id();
    await store.extend({
      conversationId,
      base: 0,
      append: messages.slice(0, 3),
      context,
      digest: digest(messages.slice(0, 3)),
    });
    // A run reset to an earlier point (or a stale attempt) wrote another message at index 1.
    const other: Message = { role: 'assistant', content: [{ type: 'text', text: 'Something else.' }] };
    await store.extend({ conversationId, base: 1, append: [other], digest: digest([messages[0], other]) });
    const next = { conversationId, base: 3, append: messages.slice(3), digest: digest(messages) };
    await expect(store.extend(next)).rejects.toThrow(/differs from the workflow/);
    expect(await store.extend({ ...next, base: 0, append: messages, context })).toEqual({
      context,
      messages,
    });
    expect(await store.extend({ ...next, append: [], base: 4 })).toEqual({ context, messages });
    // Another system prompt is another conversation: the digest does not match.
    await expect(
      store.extend({ ...next, base: 0, append: messages, context: { ...context, system: 'Be brief.' } }),
    ).rejects.toThrow(/differs from the workflow/);
  });

  it('stores the conversation encrypted with the worker codec, unreadable without its key', async () => {
    const codec = new AesGcmCodec(new Map([['k1', randomBytes(32)]]), 'k1');
    const store = new TranscriptStore(pool).withCodec(codec);
    const messages = conversation();
    const conversationId = id();
    expect(
      await store.extend({ conversationId, base: 0, append: messages, context, digest: digest(messages) }),
    ).toEqual({ context, messages });
    const { rows } = await pool.query<{ encoding: string; body: Buffer }>(
      'SELECT encoding, body FROM transcript_messages WHERE conversation_id = $1 ORDER BY seq',
      [conversationId],
    );
    expect(rows.map((r) => r.encoding)).toEqual(['codec', 'codec', 'codec', 'codec', 'codec']);
    expect(rows.some((r) => /refund|order-operations/.test(r.body.toString('latin1')))).toBe(false);
    const keyless = new TranscriptStore(pool);
    await expect(
      keyless.extend({ conversationId, base: 4, append: [], digest: digest(messages) }),
    ).rejects.toThrow(/row -1 cannot be read/);
  });

  it('prunes messages not written within the retention', async () => {
    const messages = conversation();
    const [old, fresh] = [id(), id()];
    const store = new TranscriptStore(pool, { retentionMs: 24 * 3600 * 1000 });
    for (const conversationId of [old, fresh])
      await store.extend({ conversationId, base: 0, append: messages, context, digest: digest(messages) });
    await pool.query(
      "UPDATE transcript_messages SET updated_at = now() - interval '2 days' WHERE conversation_id = $1",
      [old],
    );
    expect(await store.prune()).toBeGreaterThanOrEqual(5);
    const { rows } = await pool.query<{ conversation_id: string; n: string }>(
      `SELECT conversation_id, count(*) AS n FROM transcript_messages
        WHERE conversation_id = ANY($1) GROUP BY conversation_id`,
      [[old, fresh]],
    );
    expect(rows.map((r) => [r.conversation_id, Number(r.n)])).toEqual([[fresh, 5]]);
  });
});
