import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import type { Ledger } from '../idempotency/ledger.js';
import { withLedger } from './effect-scope.js';

/** How often a running activity tells the server it is alive; the workflows' heartbeat timeout is 10 s. */
export const HEARTBEAT_INTERVAL_MS = 2_000;

/**
 * What the onceflow plugin does around every activity of the worker, the user's included:
 * - gives {@link effect} the worker's ledger;
 * - heartbeats while the activity runs, so a worker that dies (SIGKILL, OOM, a lost machine) loses its
 *   in-flight activities after the heartbeat timeout, not after their full start-to-close timeout.
 *   Local activities run inside the workflow task and have no heartbeat to send.
 */
export function onceflowActivityInterceptor(ledger: Ledger): ActivityInterceptorsFactory {
  return (ctx) => ({
    inbound: {
      execute: (input, next) =>
        withLedger(ledger, async () => {
          if (ctx.info.isLocal) return next(input);
          ctx.heartbeat();
          const timer = setInterval(() => ctx.heartbeat(), HEARTBEAT_INTERVAL_MS);
          try {
            return await next(input);
          } finally {
            clearInterval(timer);
          }
        }),
    },
  });
}
