/**
 * `createTestEnv` from `onceflow/testing`, used as a user's test suite would: a tiny agent of the
 * user's own (test/testing/fixtures), its activity calling an in-test notes API through `effect()`.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { AesGcmCodec } from 'onceflow/client';
import { activityCalls, createTestEnv, type TestEnv } from 'onceflow/testing';
import { createNoteActivities } from './fixtures/activities.js';
import { noteAgent } from './fixtures/workflows.js';

const WORKFLOWS_PATH = new URL('./fixtures/workflows.ts', import.meta.url).pathname;
const SCENARIOS_DIR = new URL('./fixtures/scenarios/', import.meta.url).pathname;

/** A notes API deduplicating by `Idempotency-Key`: how many requests each key sent, how many notes exist. */
interface NotesApi {
  url: string;
  requests: Map<string, number>;
  notes: Map<string, { id: string; text: string }>;
  close(): Promise<void>;
}

async function startNotesApi(): Promise<NotesApi> {
  const requests = new Map<string, number>();
  const notes = new Map<string, { id: string; text: string }>();
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      const key = String(req.headers['idempotency-key'] ?? '');
      requests.set(key, (requests.get(key) ?? 0) + 1);
      if (!notes.has(key)) {
        const { text } = JSON.parse(body) as { text: string };
        notes.set(key, { id: `note_${notes.size + 1}`, text });
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: notes.get(key)!.id }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    notes,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Whether something accepts TCP connections on `host:port`. */
function listening(address: string): Promise<boolean> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.split(':').pop())];
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

function noteTask() {
  const ref = `N-${randomUUID().slice(0, 8)}`;
  return {
    ref,
    workflowId: `note-${ref}`,
    input: { prompt: `Tell ada the build is green: note_ref=${ref}.`, scenario: 'note-twice' },
  };
}

describe('createTestEnv on the run’s dev server and Postgres, with a codec', () => {
  let api: NotesApi;
  let env: TestEnv;
  beforeAll(async () => {
    api = await startNotesApi();
    env = await createTestEnv({
      workflowsPath: WORKFLOWS_PATH,
      activities: createNoteActivities(api.url),
      scenariosDir: SCENARIOS_DIR,
      temporalAddress: inject('temporalAddress'),
      namespace: inject('namespace'),
      databaseUrl: inject('databaseUrl'),
      migrate: false, // the global setup migrated
      codec: new AesGcmCodec(new Map([['test', randomBytes(32)]]), 'test'),
    });
  });
  afterAll(async () => {
    await env?.close();
    await api?.close();
  });

  it('runs a session that re-decides the same note: one downstream effect, the second call replayed', async () => {
    const t = noteTask();
    const result = await env.execute(noteAgent, { workflowId: t.workflowId, args: [t.input] });

    expect(result.status).toBe('completed');
    expect(result.finalText).toBe(`Note ${t.ref} is sent.`);
    expect(result.toolCalls.map((c) => [c.name, c.outcome])).toEqual([
      ['send_note', 'executed'],
      ['send_note', 'replayed'],
    ]);
    const key = result.toolCalls[0]!.key!;
    expect(result.toolCalls[1]!.key).toBe(key);
    // Exactly one request reached the downstream, under the intent key.
    expect(Object.fromEntries(api.requests)).toEqual({ [key]: 1 });
    expect(api.notes.get(key)?.text).toBe('The build is green.');

    // History, decoded through the codec: two activity runs, one attempt each, the second replayed.
    expect((await env.scheduledActivities(t.workflowId)).filter((a) => a === 'sendNote')).toHaveLength(2);
    expect(await env.attempts(t.workflowId, 'sendNote')).toEqual([1, 1]);
    expect(await env.activityResults(t.workflowId, 'sendNote')).toEqual([
      { outcome: 'executed', key, result: { id: 'note_1' } },
      { outcome: 'replayed', key, result: { id: 'note_1' } },
    ]);
    const { events } = await env.client.workflow.getHandle(t.workflowId).fetchHistory();
    const completed = activityCalls(events ?? []).find((c) => c.type === 'sendNote');
    const metadata = completed?.result?.[0]?.metadata;
    expect(Buffer.from(metadata?.encoding ?? []).toString()).toBe('binary/encrypted');

    // The ledger: one row for the task, performed once, answered once from the row.
    const rows = await env.effects(t.workflowId);
    expect(rows.map((r) => [r.key, r.operation, r.status, r.completedBy])).toEqual([
      [key, 'send_note', 'succeeded', 'perform'],
    ]);
    expect(await env.ledger.stats({ scope: t.workflowId })).toMatchObject({ executed: 1, replayed: 1 });
  });
});

describe('createTestEnv with nothing given: its own dev server and Postgres', () => {
  it('starts them, runs a session on them, and stops them on close()', async () => {
    const api = await startNotesApi();
    const env = await createTestEnv({
      workflowsPath: WORKFLOWS_PATH,
      activities: createNoteActivities(api.url),
      scenariosDir: SCENARIOS_DIR,
    });
    const postgres = new URL(env.databaseUrl).host;
    try {
      expect(env.temporalAddress).not.toBe(inject('temporalAddress'));
      expect(env.databaseUrl).not.toBe(inject('databaseUrl'));
      const t = noteTask();
      const result = await env.execute(noteAgent, { workflowId: t.workflowId, args: [t.input] });
      expect(result.toolCalls.map((c) => c.outcome)).toEqual(['executed', 'replayed']);
      expect([...api.requests.values()]).toEqual([1]);
      expect(await listening(env.temporalAddress)).toBe(true);
      expect(await listening(postgres)).toBe(true);
    } finally {
      await env.close();
      await api.close();
    }
    expect(await listening(env.temporalAddress)).toBe(false);
    expect(await listening(postgres)).toBe(false);
    await env.close(); // a second close does nothing
  }, 180_000);
});
