const LEASE_MARGIN_MS = 5_000;

/** What of an activity attempt decides its claim's lease (a subset of Temporal's activity info). */
export interface AttemptTimeouts {
  startToCloseTimeoutMs: number;
  heartbeatTimeoutMs?: number | undefined;
  isLocal?: boolean;
}

/**
 * The lease a claim made inside an activity attempt should carry, or undefined when the attempt has no
 * timeout (the ledger's default applies). Past the lease Temporal has given up on the attempt, so a
 * later one may recover the claim:
 * - a regular activity with a heartbeat timeout: that timeout (or the start-to-close timeout, if
 *   shorter) plus a margin, renewed while the attempt heartbeats (see {@link renewsLease}), so a dead
 *   worker's claim is free ~15 s after its last heartbeat rather than after the whole start-to-close;
 * - otherwise (local activities, no heartbeat): the start-to-close timeout plus a margin.
 */
export function attemptLeaseMs(info: AttemptTimeouts): number | undefined {
  if (renewsLease(info)) {
    const heartbeat = info.heartbeatTimeoutMs ?? 0;
    const attempt = info.startToCloseTimeoutMs > 0 ? info.startToCloseTimeoutMs : heartbeat;
    return Math.min(heartbeat, attempt) + LEASE_MARGIN_MS;
  }
  return info.startToCloseTimeoutMs > 0 ? info.startToCloseTimeoutMs + LEASE_MARGIN_MS : undefined;
}

/** True when the attempt heartbeats, so its claims' leases are renewed with each heartbeat. */
export function renewsLease(info: AttemptTimeouts): boolean {
  return !info.isLocal && (info.heartbeatTimeoutMs ?? 0) > 0;
}
