import type { FastifyReply, FastifyRequest } from 'fastify';
import { followTask, type FollowSource } from '../stream/follow.js';

/** The id to resume after: `Last-Event-ID` (what EventSource sends on reconnect), else `?after=`. */
export function resumeAfter(request: FastifyRequest): number {
  const header = request.headers['last-event-id'];
  const raw = (Array.isArray(header) ? header[0] : header) ?? (request.query as { after?: string }).after;
  const n = Number(raw ?? 0);
  return Number.isSafeInteger(n) && n > 0 ? n : 0;
}

/**
 * Streams a task's live events (see `followTask`) as Server-Sent Events — `id`, `event` (the kind),
 * `data` (JSON) — from after `after`, until its run closes (`end`) or the client leaves; a comment
 * line every 15 s of silence keeps proxies from closing it. The task must exist (callers check first,
 * to answer 404 before streaming).
 */
export async function streamEvents(
  source: FollowSource,
  id: string,
  after: number,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  // EventSource reconnects after 1 s (with Last-Event-ID) when the connection drops.
  raw.write('retry: 1000\n\n');
  const left = new AbortController();
  request.raw.on('close', () => left.abort());
  try {
    for await (const event of followTask(source, id, { after, signal: left.signal, idleMs: 15_000 })) {
      if (event) raw.write(`id: ${event.id}\nevent: ${event.kind}\ndata: ${JSON.stringify(event.data)}\n\n`);
      else raw.write(': keep-alive\n\n');
    }
  } finally {
    raw.end();
  }
}
