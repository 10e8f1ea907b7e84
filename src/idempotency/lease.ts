const LEASE_MARGIN_MS = 5_000;

/**
 * The lease a claim made inside an activity attempt should carry: the attempt's start-to-close
 * timeout plus a margin (past it Temporal has given up on the attempt, so a later one may recover the
 * claim), or undefined when there is no timeout (the ledger's default applies).
 */
export function attemptLeaseMs(info: { startToCloseTimeoutMs: number }): number | undefined {
  return info.startToCloseTimeoutMs > 0 ? info.startToCloseTimeoutMs + LEASE_MARGIN_MS : undefined;
}
