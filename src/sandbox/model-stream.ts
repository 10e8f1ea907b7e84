import type { ServerResponse } from 'node:http';
import { sleep } from './http.js';
import { emittedText, safeCut, type ApiMessage } from './model-output.js';

/** One server-sent event of a streamed Messages answer: `event: <type>` and its JSON `data`. */
export interface StreamEvent {
  type: string;
  data: Record<string, unknown>;
}

/** How {@link writeEventStream} paces and ends a stream. */
export interface StreamPlan {
  /** Pause before every event but the first, in ms (the `slow_stream` fault). */
  delayMs?: number;
  /**
   * Send only the first `after` events, then drop the connection, keep it open until the client goes
   * away, or send an `overloaded_error` event and end.
   */
  cut?: { after: number; then: 'drop' | 'hang' | 'error' };
}

/** `event: <type>\ndata: <json>\n\n`, the frame the Messages API sends. */
export const encodeEvent = (event: StreamEvent) =>
  `event: ${event.type}\ndata: ${JSON.stringify(event.data)}\n\n`;

/** A text in word-sized pieces (a few characters each, leading space kept), as tokens stream. */
export function textPieces(text: string): string[] {
  return text.match(/\s*\S{1,6}|\s+/gu) ?? [];
}

/** A tool input's JSON in pieces: 8 characters, or longer for big inputs (at most ~256 pieces). */
export function jsonPieces(json: string): string[] {
  const size = Math.max(8, Math.ceil(json.length / 256));
  const pieces: string[] = [];
  for (let start = 0; start < json.length;) {
    const end = safeCut(json, Math.min(json.length, start + size));
    pieces.push(json.slice(start, end));
    start = end;
  }
  return pieces;
}

/**
 * The events that stream `message`, in the real API's order: `message_start` (no content, no stop
 * reason yet), `ping`, per block `content_block_start` / `content_block_delta`… / `content_block_stop`,
 * then `message_delta` (stop reason, output tokens) and `message_stop`.
 */
export function messageEvents(message: ApiMessage): StreamEvent[] {
  const events: StreamEvent[] = [
    {
      type: 'message_start',
      data: {
        type: 'message_start',
        message: {
          ...message,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { ...message.usage, output_tokens: 1 },
        },
      },
    },
    { type: 'ping', data: { type: 'ping' } },
  ];
  message.content.forEach((block, index) => {
    const start = block.type === 'text' ? { type: 'text', text: '' } : { ...block, input: {} };
    events.push({
      type: 'content_block_start',
      data: { type: 'content_block_start', index, content_block: start },
    });
    const deltas =
      block.type === 'text'
        ? textPieces(block.text).map((text) => ({ type: 'text_delta', text }))
        : jsonPieces(emittedText(block)).map((partial_json) => ({ type: 'input_json_delta', partial_json }));
    for (const delta of deltas) {
      events.push({ type: 'content_block_delta', data: { type: 'content_block_delta', index, delta } });
    }
    events.push({ type: 'content_block_stop', data: { type: 'content_block_stop', index } });
  });
  events.push(
    {
      type: 'message_delta',
      data: {
        type: 'message_delta',
        delta: {
          stop_reason: message.stop_reason,
          stop_sequence: message.stop_sequence,
          stop_details: message.stop_details,
        },
        usage: { output_tokens: message.usage.output_tokens },
      },
    },
    { type: 'message_stop', data: { type: 'message_stop' } },
  );
  return events;
}

/**
 * How many events make "`message_start` and the first half of the content deltas" (at least
 * `message_start`): where a stream that breaks mid-answer breaks.
 */
export function halfwayThroughDeltas(events: StreamEvent[]): number {
  const deltas = events.flatMap((e, i) => (e.type === 'content_block_delta' ? [i] : []));
  const last = deltas[Math.ceil(deltas.length / 2) - 1];
  return last === undefined ? 1 : last + 1;
}

/** Writes a chunk and waits until it is handed to the socket (or the socket is gone). */
function write(res: ServerResponse, chunk: string): Promise<void> {
  return new Promise((resolve) => {
    res.write(chunk, () => resolve());
  });
}

/** The error event of a stream that fails after it started: its HTTP status is already 200. */
const OVERLOADED: StreamEvent = {
  type: 'error',
  data: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded (sandbox fault)' } },
};

/**
 * Answers with `events` as a `text/event-stream`, paced and cut by `plan`. Stops writing when the
 * client goes away.
 */
export async function writeEventStream(
  res: ServerResponse,
  events: StreamEvent[],
  headers: Record<string, string>,
  plan: StreamPlan = {},
): Promise<void> {
  let closed = false;
  res.once('close', () => (closed = true));
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    ...headers,
  });
  // Headers now, so the client's request resolves before the first (maybe delayed) event.
  res.flushHeaders();
  if (!plan.delayMs && !plan.cut) {
    // Unpaced and whole: one write, as a fast upstream's answer arrives in few TCP segments. A write
    // per event would cost the serving process an event-loop turn each, which the model activity would
    // wait out when the sandbox shares its process (tests, benches).
    res.end(events.map(encodeEvent).join(''));
    return;
  }
  const count = Math.min(plan.cut?.after ?? events.length, events.length);
  for (const [i, event] of events.slice(0, count).entries()) {
    if (i > 0 && plan.delayMs) await sleep(plan.delayMs);
    if (closed) return;
    // Waiting for each write keeps a slow reader from buffering the whole answer here, and lets a
    // cut below happen after what was sent has really left.
    await write(res, encodeEvent(event));
  }
  if (closed) return;
  switch (plan.cut?.then) {
    case 'drop':
      res.socket?.destroy();
      return;
    case 'hang':
      // Kept open without an end, until the client aborts (or the server closes its connections).
      return new Promise((resolve) => res.once('close', resolve));
    case 'error':
      res.end(encodeEvent(OVERLOADED));
      return;
    default:
      res.end();
  }
}
