import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import type { Ledger } from '../idempotency/ledger.js';
import { attemptLeaseMs, renewsLease } from '../idempotency/lease.js';
import { heldClaims, withLedger } from './effect-scope.js';

/** How often a running activity tells the server it is alive; the workflows' heartbeat timeout is 10 s. */
export const HEARTBEAT_INTERVAL_MS = 2_000;

/**
 * What the onceflow plugin does around every activity of the worker, the user's included:
 * - gives {@link effect} the worker's ledger;
 * - heartbeats while the activity runs, so a worker that dies (SIGKILL, OOM, a lost machine) loses its
 *   in-flight activities after the heartbeat timeout, not after their full start-to-close timeout;
 * - renews, with each heartbeat, the leases of the claims its effects hold, so that a claim outlives
 *   its attempt by the heartbeat timeout plus a margin, not by the start-to-close timeout.
 *   Local activities run inside the workflow task and have no heartbeat to send.
 */
export function onceflowActivityInterceptor(ledger: Ledger): ActivityInterceptorsFactory {
  return (ctx) => ({
    inbound: {
      execute: (input, next) =>
        withLedger(ledger, async () => {
          if (ctx.info.isLocal) return next(input);
          ctx.heartbeat();
          const claims = heldClaims();
          const leaseMs = renewsLease(ctx.info) ? attemptLeaseMs(ctx.info) : undefined;
          const timer = setInterval(() => {
            ctx.heartbeat();
            // A failed renewal is not fatal: the lease still runs, and a retry recovers after it.
            if (leaseMs !== undefined && claims.size > 0)
              void ledger.renewLeases([...claims], leaseMs).catch(() => undefined);
          }, HEARTBEAT_INTERVAL_MS);
          try {
            return await next(input);
          } finally {
            clearInterval(timer);
          }
        }),
    },
  });
}
