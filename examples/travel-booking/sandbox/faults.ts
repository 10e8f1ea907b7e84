import type { ResourceKind } from './types.js';

/** The write a fault applies to: booking (`POST …/reservations`) or cancelling (`POST …/{ref}/cancel`). */
export type FaultedOperation = 'reserve' | 'cancel';

/** One armed fault. */
export type TravelFault =
  | {
      /** The request is handled (a new reservation is committed), then the socket is destroyed unanswered. */
      fault: 'drop_after_commit';
    }
  | {
      /** The request is answered with `status` and nothing is committed. */
      fault: 'fail';
      status: number;
    }
  | {
      /** The request waits `ms` before it is handled (and then answered normally). */
      fault: 'delay';
      ms: number;
    };

/**
 * One-shot fault injection for exactly-once tests. Each call arms one fault for the next write of that
 * kind and operation (default `reserve`); calls on the same kind and operation queue up, first armed
 * first served, one fault per request. Reads (`GET`) are never faulted.
 */
export class TravelFaults {
  private readonly armed = new Map<string, TravelFault[]>();
  private readonly counts: Record<TravelFault['fault'], number> = {
    drop_after_commit: 0,
    fail: 0,
    delay: 0,
  };

  /** The next write commits as usual, then its connection is destroyed without an answer. */
  dropNextResponseAfterCommit(kind: ResourceKind, operation: FaultedOperation = 'reserve'): void {
    this.arm(kind, operation, { fault: 'drop_after_commit' });
  }

  /** The next write is answered with `status` (429 or 5xx) without committing anything. */
  failNext(kind: ResourceKind, status = 503, operation: FaultedOperation = 'reserve'): void {
    if (!Number.isInteger(status) || (status !== 429 && (status < 500 || status > 599))) {
      throw new RangeError(`failNext status must be 429 or 5xx; got ${status}`);
    }
    this.arm(kind, operation, { fault: 'fail', status });
  }

  /** The next write waits `ms` before it is handled. */
  delayNext(kind: ResourceKind, ms: number, operation: FaultedOperation = 'reserve'): void {
    if (!Number.isInteger(ms) || ms < 0) throw new RangeError(`delayNext ms must be ≥ 0; got ${ms}`);
    this.arm(kind, operation, { fault: 'delay', ms });
  }

  /** Disarms every pending fault. */
  clear(): void {
    this.armed.clear();
  }

  /** How many faults are armed and not yet consumed. */
  pending(): number {
    return [...this.armed.values()].reduce((sum, queue) => sum + queue.length, 0);
  }

  /** Faults injected so far, by fault. */
  injected(): Record<TravelFault['fault'], number> {
    return { ...this.counts };
  }

  /** The fault for this request, if one is armed; consumes it. Used by the server. */
  take(kind: ResourceKind, operation: FaultedOperation): TravelFault | undefined {
    const fault = this.armed.get(`${kind}:${operation}`)?.shift();
    if (fault) this.counts[fault.fault]++;
    return fault;
  }

  private arm(kind: ResourceKind, operation: FaultedOperation, fault: TravelFault): void {
    const key = `${kind}:${operation}`;
    this.armed.set(key, [...(this.armed.get(key) ?? []), fault]);
  }
}
