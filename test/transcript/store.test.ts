import { randomBytes, randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AesGcmCodec } from '../../src/codec/aes-gcm.js';
import type { Message } from '../../src/tools/messages.js';
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

  it('rebuilds the whole transcript from the messages each turn appends', async () => {
    const store = new TranscriptStore(pool);
    const messages = conversation();
    const conversationId = id();
    const first = await store.extend({
      conversationId,
      base: 0,
      append: messages.slice(0, 1),
      digest: chainOf(messages.slice(0, 1)),
    });
    expect(first).toEqual(messages.slice(0, 1));
    const all = await store.extend({
      conversationId,
      base: 1,
      append: messages.slice(1),
      digest: chainOf(messages),
    });
    expect(all).toEqual(messages);
    const { rows } = await pool.query<{ n: string }>(
      'SELECT count(*) AS n FROM transcript_messages WHERE conversation_id = $1',
      [conversationId],
    );
    expect(Number(rows[0]!.n)).toBe(4);
  });

  it('reports a gap when the messages before base were never stored', async () => {
    const store = new TranscriptStore(pool);
    const messages = conversation();
    const attempt = store.extend({
      conversationId: id(),
      base: 2,
      append: messages.slice(2),
      digest: chainOf(messages),
    });
    await expect(attempt).rejects.toBeInstanceOf(TranscriptGapError);
    await expect(attempt).rejects.toMatchObject({ code: 'TRANSCRIPT_GAP', retryable: false });
  });

  it('reports a gap when a stored message differs from the workflow’s, and a full resend repairs it', async () => {
    const store = new TranscriptStore(pool);
    const messages = conversation();
    const conversationId = id();
    await store.extend({
      conversationId,
      base: 0,
      append: messages.slice(0, 3),
      digest: chainOf(messages.slice(0, 3)),
    });
    // A run reset to an earlier point (or a stale attempt) wrote another message at index 1.
    await store.extend({
      conversationId,
      base: 1,
      append: [{ role: 'assistant', content: [{ type: 'text', text: 'Something else.' }] }],
      digest: chainOf([
        messages[0],
        { role: 'assistant', content: [{ type: 'text', text: 'Something else.' }] },
      ]),
    });
    const next = { conversationId, base: 3, append: messages.slice(3), digest: chainOf(messages) };
    await expect(store.extend(next)).rejects.toThrow(/differs from the workflow/);
    expect(await store.extend({ ...next, base: 0, append: messages })).toEqual(messages);
    expect(await store.extend({ ...next, append: [], base: 4 })).toEqual(messages);
  });

  it('stores messages encrypted with the worker codec, unreadable without its key', async () => {
    const codec = new AesGcmCodec(new Map([['k1', randomBytes(32)]]), 'k1');
    const store = new TranscriptStore(pool).withCodec(codec);
    const messages = conversation();
    const conversationId = id();
    expect(
      await store.extend({ conversationId, base: 0, append: messages, digest: chainOf(messages) }),
    ).toEqual(messages);
    const { rows } = await pool.query<{ encoding: string; body: Buffer }>(
      'SELECT encoding, body FROM transcript_messages WHERE conversation_id = $1 ORDER BY seq',
      [conversationId],
    );
    expect(rows.map((r) => r.encoding)).toEqual(['codec', 'codec', 'codec', 'codec']);
    expect(rows.some((r) => r.body.toString('latin1').includes('refund'))).toBe(false);
    const keyless = new TranscriptStore(pool);
    await expect(
      keyless.extend({ conversationId, base: 4, append: [], digest: chainOf(messages) }),
    ).rejects.toThrow(/message 0 cannot be read/);
  });

  it('prunes messages not written within the retention', async () => {
    const messages = conversation();
    const [old, fresh] = [id(), id()];
    const store = new TranscriptStore(pool, { retentionMs: 24 * 3600 * 1000 });
    for (const conversationId of [old, fresh])
      await store.extend({ conversationId, base: 0, append: messages, digest: chainOf(messages) });
    await pool.query(
      "UPDATE transcript_messages SET updated_at = now() - interval '2 days' WHERE conversation_id = $1",
      [old],
    );
    expect(await store.prune()).toBeGreaterThanOrEqual(4);
    const { rows } = await pool.query<{ conversation_id: string; n: string }>(
      `SELECT conversation_id, count(*) AS n FROM transcript_messages
        WHERE conversation_id = ANY($1) GROUP BY conversation_id`,
      [[old, fresh]],
    );
    expect(rows.map((r) => [r.conversation_id, Number(r.n)])).toEqual([[fresh, 4]]);
  });
});
