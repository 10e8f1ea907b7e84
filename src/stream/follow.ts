import type { Client } from '@temporalio/client';
import type { StreamEvent } from './events.js';
import type { StreamListener } from './listener.js';
import { observeTask } from './observe.js';
import type { TaskStream } from './store.js';

/** What {@link followTask} reads: the task's stream, this process's `LISTEN`, and Temporal. */
export interface FollowSource {
  client: Client;
  stream: TaskStream;
  listener: StreamListener;
  /** How often the task's queries are read for status, tool calls and approvals. Default 500 ms. */
  intervalMs?: number;
}

/** Options of {@link followTask}. */
export interface FollowOptions {
  /** Resume after this event id (`Last-Event-ID`); default 0, from the start. */
  after?: number;
  /** Stops following (the generator returns). */
  signal?: AbortSignal;
  /** Yields `undefined` when nothing arrived for this long, so callers can send a keep-alive. */
  idleMs?: number;
}

/**
 * A task's live events after `options.after`, in order, until its latest run closes (the last event
 * is then `end`) or `signal` aborts. Model text arrives as soon as a turn publishes it (woken by
 * `LISTEN`); status, tool results, approvals and compensation are read from the task's queries every
 * `intervalMs` and published once (see `observeTask`), so every follower, in any process, sees the
 * same events under the same ids. Used by `GET /tasks/:id/events` and `onceflow run`.
 */
export async function* followTask(
  source: FollowSource,
  taskId: string,
  options: FollowOptions = {},
): AsyncGenerator<StreamEvent | undefined> {
  const intervalMs = source.intervalMs ?? 500;
  let wake: (() => void) | undefined;
  // Set by a notification that arrives while this follower reads or observes (no one is waiting
  // then): the next wait returns at once instead of sleeping until the next observation.
  let dirty: boolean;
  const woken = () => {
    dirty = true;
    wake?.();
    wake = undefined;
  };
  options.signal?.addEventListener('abort', woken);
  const unwatch = await source.listener.watch(taskId, woken);
  let last = options.after ?? 0;
  let nextObserve = 0;
  let lastYield = Date.now();
  try {
    while (!options.signal?.aborted) {
      // Observed before reading: once the run is seen closed, the read below includes its `end`.
      let closed = false;
      if (Date.now() >= nextObserve) {
        closed = await observeTask(source.client, taskId, source.stream).catch(() => false);
        nextObserve = Date.now() + intervalMs;
      }
      dirty = false;
      for (;;) {
        const events = await source.stream.read(taskId, last);
        for (const event of events) {
          last = event.id;
          lastYield = Date.now();
          yield event;
        }
        if (events.length < 500) break;
      }
      if (closed) return;
      if (options.idleMs !== undefined && Date.now() - lastYield >= options.idleMs) {
        lastYield = Date.now();
        yield undefined;
      }
      if (dirty) continue;
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, Math.max(0, nextObserve - Date.now()));
      });
    }
  } finally {
    options.signal?.removeEventListener('abort', woken);
    unwatch();
  }
}
