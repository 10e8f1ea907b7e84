import type { StreamEvent } from './events.js';

/** Options of {@link taskEvents}. */
export interface TaskEventsOptions {
  /** `API_TOKEN` of the API, sent as `Authorization: Bearer`. */
  token?: string | undefined;
  /** Resume after this event id; default from the start. */
  after?: number;
  /** Stops following. */
  signal?: AbortSignal;
  /** Reconnects (with `Last-Event-ID`) when the connection drops before `end`; default true. */
  reconnect?: boolean;
  /** Wait before reconnecting; default 1 s, or the server's `retry:`. */
  retryMs?: number;
}

/** A non-2xx answer to `GET /tasks/:id/events`: an unknown task (404), a missing token (401). */
export class TaskEventsError extends Error {
  readonly code = 'TASK_EVENTS_FAILED';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Parses SSE frames from a byte stream: `{id, event, data}` per frame, comments skipped. */
async function* frames(
  body: ReadableStream<Uint8Array>,
): AsyncGenerator<{ id?: string; event?: string; data: string; retry?: number }> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + (buffer[end] === '\r' ? 4 : 2));
      const frame: { id?: string; event?: string; data: string; retry?: number } = { data: '' };
      const data: string[] = [];
      for (const line of block.split(/\r?\n/)) {
        if (line.startsWith(':') || line === '') continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'id') frame.id = value;
        else if (field === 'event') frame.event = value;
        else if (field === 'data') data.push(value);
        else if (field === 'retry' && /^\d+$/.test(value)) frame.retry = Number(value);
      }
      frame.data = data.join('\n');
      yield frame;
    }
  }
}

/**
 * Follows a task's live events through the HTTP API (`GET {apiUrl}/tasks/:id/events`), reconnecting
 * after a dropped connection from the last event received, so each event is yielded once. Ends after
 * `end`. Throws {@link TaskEventsError} on a non-2xx answer.
 *
 * ```ts
 * for await (const e of taskEvents('http://localhost:3000', taskId)) {
 *   if (e.kind === 'text_delta') process.stdout.write(e.data.text);
 * }
 * ```
 */
export async function* taskEvents(
  apiUrl: string,
  taskId: string,
  options: TaskEventsOptions = {},
): AsyncGenerator<StreamEvent> {
  let last = options.after ?? 0;
  let retryMs = options.retryMs ?? 1000;
  const url = `${apiUrl.replace(/\/$/, '')}/tasks/${encodeURIComponent(taskId)}/events`;
  for (;;) {
    let response: Response;
    try {
      response = await fetch(url, {
        headers: {
          accept: 'text/event-stream',
          ...(last > 0 ? { 'last-event-id': String(last) } : {}),
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        },
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (err) {
      if (options.signal?.aborted || options.reconnect === false) throw err;
      await new Promise((r) => setTimeout(r, retryMs));
      continue;
    }
    if (!response.ok || !response.body) {
      const text = await response.text().catch(() => '');
      throw new TaskEventsError(response.status, `GET ${url}: ${response.status} ${text}`.trim());
    }
    try {
      for await (const frame of frames(response.body)) {
        if (frame.retry !== undefined) retryMs = options.retryMs ?? frame.retry;
        if (!frame.event || frame.id === undefined) continue;
        last = Number(frame.id);
        const event = { id: last, kind: frame.event, data: JSON.parse(frame.data) as unknown } as StreamEvent;
        yield event;
        if (event.kind === 'end') return;
      }
    } catch (err) {
      if (options.signal?.aborted || options.reconnect === false) throw err;
    }
    if (options.signal?.aborted) return;
    if (options.reconnect === false) return;
    await new Promise((r) => setTimeout(r, retryMs));
  }
}
