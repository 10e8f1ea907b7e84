import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi } from '../../src/api/index.js';
import { AesGcmCodec, taskEvents, type StreamEvent } from '../../src/client.js';
import { ORDER_TASKS } from '../../examples/order-ops/tasks.js';
import { agentTask } from '../api/fixtures.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { turnTexts } from '../support/transcript.js';
import { spawnWorkerProcess } from '../support/worker-process.js';

const SCENARIO = 'agent-streamed-text';

/** The text a client shows from these events: deltas per turn, minus the attempts a retry discarded. */
function shownText(events: StreamEvent[]): string[] {
  const byTurn: { attempt: number; text: string }[][] = [];
  for (const e of events) {
    if (e.kind === 'text_delta') {
      const d = (e as StreamEvent<'text_delta'>).data;
      (byTurn[d.turn - 1] ??= []).push({ attempt: d.attempt, text: d.text });
    } else if (e.kind === 'text_discarded') {
      const d = (e as StreamEvent<'text_discarded'>).data;
      byTurn[d.turn - 1] = (byTurn[d.turn - 1] ?? []).filter((p) => !d.attempts.includes(p.attempt));
    }
  }
  return [...byTurn].map((parts) => (parts ?? []).map((p) => p.text).join(''));
}

async function collect(
  iterator: AsyncGenerator<StreamEvent>,
  until: (e: StreamEvent) => boolean = () => false,
): Promise<StreamEvent[]> {
  const events: StreamEvent[] = [];
  for await (const e of iterator) {
    events.push(e);
    if (until(e)) break;
  }
  return events;
}

describe('live agent output (payload encryption on, as npm start runs)', () => {
  let env: TestEnv;
  let api: Awaited<ReturnType<typeof startApi>>;
  const codec = new AesGcmCodec(new Map([['live', randomBytes(32)]]), 'live');
  beforeAll(async () => {
    env = await createTestEnv({ codec });
    await env.startWorker();
    api = await startApi({
      tasks: ORDER_TASKS,
      client: env.client,
      pool: env.pool,
      taskQueue: env.taskQueue,
      uiUrl: 'http://ui.test',
      eventsIntervalMs: 100,
      codec,
    });
  });
  afterAll(async () => {
    await api.close();
    await env.close();
  });

  it('sends the first text delta to an SSE client before the model turn completes, then every event once', async () => {
    // The model writes slowly: 40 ms between events, so a turn takes over a second.
    env.sandbox.faults.model.set([
      { match: { path: '/v1/messages', scenario: SCENARIO }, fault: 'slow_stream', latencyMs: 40, times: 1 },
    ]);
    const { body } = await agentTask(env, SCENARIO);
    const key = `live-${randomUUID()}`;
    const started = await fetch(`${api.url}/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify(body),
    });
    expect(started.status).toBe(201);

    const events: StreamEvent[] = [];
    let completedTurnsAtFirstDelta: number | undefined;
    for await (const event of taskEvents(api.url, key)) {
      if (event.kind === 'text_delta' && completedTurnsAtFirstDelta === undefined) {
        const history = await env.client.workflow.getHandle(key).fetchHistory();
        completedTurnsAtFirstDelta = (history.events ?? []).filter(
          (e) => e.activityTaskCompletedEventAttributes,
        ).length;
      }
      events.push(event);
    }
    // The first model turn was still running when its first words arrived.
    expect(completedTurnsAtFirstDelta).toBe(0);

    const kinds = events.map((e) => e.kind);
    expect(kinds.at(-1)).toBe('end');
    expect((events.at(-1) as StreamEvent<'end'>).data.status).toBe('COMPLETED');
    expect(kinds.filter((k) => k === 'text_delta').length).toBeGreaterThan(10);
    // Order: turn 1's text, its tool use, the tool's result, then turn 2's text.
    const firstOf = (kind: string) => kinds.indexOf(kind as StreamEvent['kind']);
    expect(firstOf('tool_use')).toBeGreaterThan(firstOf('text_delta'));
    expect(firstOf('tool_result')).toBeGreaterThan(firstOf('tool_use'));
    const turn2 = events.findIndex(
      (e) => e.kind === 'text_delta' && (e as StreamEvent<'text_delta'>).data.turn === 2,
    );
    expect(turn2).toBeGreaterThan(firstOf('tool_result'));
    expect(events.find((e) => e.kind === 'tool_result')?.data).toMatchObject({
      name: 'lookup_customer',
      outcome: 'read',
      turn: 1,
    });
    // The text shown is the transcript's, once.
    expect(shownText(events)).toEqual(await turnTexts(env, key));
    // Ids increase; no event twice.
    const ids = events.map((e) => e.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(ids.length);

    // Resuming after any event yields exactly the ones after it.
    const middle = events[Math.floor(events.length / 2)]!;
    const rest = await collect(taskEvents(api.url, key, { after: middle.id }));
    expect(rest.map((e) => e.id)).toEqual(ids.filter((id) => id > middle.id));

    // Postgres holds the stream sealed by the codec, as history is.
    const { rows } = await env.pool.query<{ encoding: string; body: Buffer }>(
      'SELECT encoding, body FROM task_stream WHERE task_id = $1',
      [key],
    );
    expect(rows.length).toBe(events.length);
    expect(rows.every((r) => r.encoding === 'codec' && !r.body.toString('latin1').includes('customer'))).toBe(
      true,
    );
  });

  it('shows tool calls and status but no text for an agent with streaming off', async () => {
    const { body } = await agentTask(env, SCENARIO);
    const key = `live-off-${randomUUID()}`;
    const handle = await env.client.workflow.start('agentWorkflow', {
      taskQueue: env.taskQueue,
      workflowId: key,
      args: [{ prompt: body.prompt, customerId: body.customerId, scenario: SCENARIO, stream: false }],
    });
    await handle.result();
    const events = await collect(taskEvents(api.url, key));
    const kinds = events.map((e) => e.kind);
    expect(kinds).not.toContain('text_delta');
    expect(kinds).toContain('tool_result');
    expect(kinds.at(-1)).toBe('end');
  });
});

describe('live agent output across a worker killed mid-turn', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await createTestEnv();
  });
  afterAll(async () => {
    await env.close();
  });

  it('a client reconnecting with Last-Event-ID after the kill shows each word once', async () => {
    const taskQueue = `${env.taskQueue}-live-kill`;
    const api = await startApi({
      tasks: ORDER_TASKS,
      client: env.client,
      pool: env.pool,
      taskQueue,
      uiUrl: 'http://ui.test',
      eventsIntervalMs: 100,
    });
    try {
      // The first attempt of turn 1 sends half its text and then hangs, until its worker dies.
      env.sandbox.faults.model.set([
        { match: { path: '/v1/messages', scenario: SCENARIO }, fault: 'hang_mid_stream', times: 1 },
      ]);
      const doomed = spawnWorkerProcess(taskQueue, env.sandbox.addresses);
      await doomed.ready;
      const { body } = await agentTask(env, SCENARIO);
      const key = `live-kill-${randomUUID()}`;
      await fetch(`${api.url}/tasks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify(body),
      });

      // A client sees the first words of attempt 1, then loses its connection.
      const first = new AbortController();
      const before = await collect(
        taskEvents(api.url, key, { signal: first.signal }),
        (e) => e.kind === 'text_delta',
      );
      first.abort();
      await new Promise((r) => setTimeout(r, 300)); // more of attempt 1's text is published meanwhile
      await doomed.kill('SIGKILL');
      env.sandbox.faults.model.clear();
      await env.startWorker({ taskQueue });

      const last = before.at(-1)!;
      expect(last.kind).toBe('text_delta');
      expect((last as StreamEvent<'text_delta'>).data.attempt).toBe(1);
      const after = await collect(taskEvents(api.url, key, { after: last.id }));
      expect(after.at(-1)?.kind).toBe('end');
      // The resumed stream tells the client to drop attempt 1: its text published before the retry
      // started may still come (the client shows it until then), never after.
      const discarded = after.findIndex((e) => e.kind === 'text_discarded');
      expect(after[discarded]?.data).toEqual({ turn: 1, attempts: [1] });
      const attempt1 = after.flatMap((e, i) =>
        e.kind === 'text_delta' &&
        (e as StreamEvent<'text_delta'>).data.turn === 1 &&
        (e as StreamEvent<'text_delta'>).data.attempt === 1
          ? [i]
          : [],
      );
      expect(attempt1.every((i) => i < discarded)).toBe(true);
      const truth = await turnTexts(env, key);
      expect(shownText([...before, ...after])).toEqual(truth);
      // A client arriving now reads each turn's text exactly once.
      const fresh = await collect(taskEvents(api.url, key));
      expect(
        fresh
          .filter((e) => e.kind === 'text_delta')
          .map((e) => (e as StreamEvent<'text_delta'>).data.text)
          .join(''),
      ).toBe(truth.join(''));
    } finally {
      await api.close();
    }
  }, 90_000);
});
