import { Context } from '@temporalio/activity';

/** How often a running activity tells the server it is alive; the workflows' heartbeat timeout is 10 s. */
export const HEARTBEAT_INTERVAL_MS = 2_000;

type AnyActivity = (...args: never[]) => Promise<unknown>;

/**
 * Wraps every activity so it heartbeats while it runs. A worker that dies (SIGKILL, OOM, a lost
 * machine) then loses its in-flight activities after the heartbeat timeout, not after their full
 * start-to-close timeout (two minutes for a model call).
 */
export function heartbeating<T extends Record<string, AnyActivity>>(activities: T): T {
  return Object.fromEntries(
    Object.entries(activities).map(([name, fn]) => [
      name,
      async (...args: never[]) => {
        let ctx: Context | undefined;
        try {
          ctx = Context.current();
        } catch {
          return fn(...args); // called directly, outside a worker
        }
        // Local activities run inside the workflow task and have no heartbeat to send.
        if (ctx.info.isLocal) return fn(...args);
        ctx.heartbeat();
        const timer = setInterval(() => ctx.heartbeat(), HEARTBEAT_INTERVAL_MS);
        try {
          return await fn(...args);
        } finally {
          clearInterval(timer);
        }
      },
    ]),
  ) as T;
}
