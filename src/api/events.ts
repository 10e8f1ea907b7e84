import type { Client } from '@temporalio/client';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { agentStatusQuery, sagaStateQuery, toolCallsQuery } from '../workflows/index.js';

const COMPENSATION = new Set(['compensating', 'compensated', 'compensation_failed']);

/**
 * Streams a task's progress as Server-Sent Events until its current run closes or the client leaves:
 * `tool_call`, `status`, `approval_waiting`, `compensation`, then `end`. Polls the workflow's queries
 * every `intervalMs`. The task must exist (callers check first, to answer 404 before streaming).
 */
export async function streamEvents(
  client: Client,
  id: string,
  request: FastifyRequest,
  reply: FastifyReply,
  intervalMs: number,
): Promise<void> {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  const send = (event: string, data: unknown) =>
    raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  const handle = client.workflow.getHandle(id);
  let seenCalls = 0;
  let lastStatus = '';
  let lastSaga = '';
  let closed = false;
  request.raw.on('close', () => {
    closed = true;
  });
  while (!closed) {
    const description = await handle.describe().catch(() => undefined);
    const status = (await handle.query(agentStatusQuery).catch(() => undefined)) ?? undefined;
    const calls = await handle.query(toolCallsQuery).catch(() => []);
    for (const call of calls.slice(seenCalls)) send('tool_call', call);
    seenCalls = Math.max(seenCalls, calls.length);
    const statusKey = JSON.stringify(status ?? null);
    if (status && statusKey !== lastStatus) {
      send(status.pendingApproval ? 'approval_waiting' : 'status', status);
      lastStatus = statusKey;
    }
    const saga = await handle.query(sagaStateQuery).catch(() => undefined);
    if (saga && COMPENSATION.has(saga.status)) {
      const sagaKey = JSON.stringify(saga);
      if (sagaKey !== lastSaga) send('compensation', saga);
      lastSaga = sagaKey;
    }
    if (description && description.status.name !== 'RUNNING') {
      send('end', { status: description.status.name });
      break;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  raw.end();
}
