/* global fetch, setTimeout, clearTimeout, TextDecoder */
/**
 * Follows `GET /tasks/:id/events` with fetch (EventSource cannot send `Authorization`), reading the
 * body as it arrives and reconnecting with `Last-Event-ID` after a drop, so each event arrives once.
 * The browser half of src/stream/sse-client.ts.
 */

/** A non-2xx answer: 401 without the token, 404 for an unknown task. */
export class StreamError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** `{id, event, data, retry}` per SSE frame of a streamed body; comment lines are skipped. */
async function* frames(body) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + (buffer[end] === '\r' ? 4 : 2));
        const frame = { data: '' };
        const data = [];
        for (const line of block.split(/\r?\n/)) {
          if (line === '' || line.startsWith(':')) continue;
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
  } finally {
    reader.releaseLock();
  }
}

function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });
}

/**
 * Calls `onEvent({id, kind, data})` for each event of the stream at `url` until `end` or `signal`.
 * `headers()` is asked on every (re)connection, so a token typed meanwhile is used. `onState` hears
 * `connecting`, `live`, `reconnecting` and `ended`. Throws {@link StreamError} on a non-2xx answer.
 */
export async function followEvents(url, { headers, signal, onEvent, onState = () => {} }) {
  let last = 0;
  let retryMs = 1000;
  for (;;) {
    if (signal.aborted) return;
    onState(last > 0 ? 'reconnecting' : 'connecting');
    let response;
    try {
      response = await fetch(url, {
        headers: {
          ...headers(),
          accept: 'text/event-stream',
          ...(last > 0 ? { 'last-event-id': String(last) } : {}),
        },
        cache: 'no-store',
        signal,
      });
    } catch {
      if (signal.aborted) return;
      onState('reconnecting');
      await sleep(retryMs, signal);
      continue;
    }
    if (!response.ok || !response.body) {
      const text = await response.text().catch(() => '');
      let message = text || response.statusText;
      try {
        message = JSON.parse(text).error.message ?? message;
      } catch {
        // not our error shape: keep the text
      }
      throw new StreamError(response.status, message);
    }
    onState('live');
    try {
      for await (const frame of frames(response.body)) {
        if (frame.retry !== undefined) retryMs = frame.retry;
        if (!frame.event || frame.id === undefined) continue;
        last = Number(frame.id);
        try {
          onEvent({ id: last, kind: frame.event, data: JSON.parse(frame.data) });
        } catch (err) {
          // A page bug, not a stream failure: report it (window.onerror) and keep following.
          setTimeout(() => {
            throw err;
          });
        }
        if (frame.event === 'end') {
          onState('ended');
          return;
        }
      }
    } catch {
      // A dropped connection: resume after the last event received.
    }
    if (signal.aborted) return;
    onState('reconnecting');
    await sleep(retryMs, signal);
  }
}
