import { describe, expect, it } from 'vitest';
import { attemptLeaseMs, renewsLease } from '../../src/idempotency/lease.js';

describe('the lease of a claim made in an activity attempt', () => {
  it('follows the heartbeat timeout of a regular activity, which renews it', () => {
    const regular = { startToCloseTimeoutMs: 30_000, heartbeatTimeoutMs: 10_000, isLocal: false };
    expect(renewsLease(regular)).toBe(true);
    expect(attemptLeaseMs(regular)).toBe(15_000);
    // Temporal gives up at whichever timeout comes first.
    expect(attemptLeaseMs({ ...regular, startToCloseTimeoutMs: 4_000 })).toBe(9_000);
  });

  it('follows the start-to-close timeout of a local activity or one without heartbeats', () => {
    const local = { startToCloseTimeoutMs: 5_000, heartbeatTimeoutMs: 0, isLocal: true };
    expect(renewsLease(local)).toBe(false);
    expect(attemptLeaseMs(local)).toBe(10_000);
    expect(attemptLeaseMs({ startToCloseTimeoutMs: 4_000 })).toBe(9_000);
    expect(attemptLeaseMs({ startToCloseTimeoutMs: 0 })).toBeUndefined();
  });
});
