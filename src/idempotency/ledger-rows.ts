import type { StoredBusinessError } from './errors.js';

/** Status of a ledger row. */
export type LedgerStatus = 'in_progress' | 'succeeded' | 'failed';

/** What to do when an earlier attempt crashed (an `in_progress` row whose lease expired). */
export type RecoveryPolicy = 'resume' | 'verify' | 'escalate';

/** One row of `idempotency_ledger`, as {@link Ledger.get} returns it. */
export interface LedgerRow {
  key: string;
  scope: string;
  operation: string;
  fingerprint: string;
  status: LedgerStatus;
  /** The stored result once `succeeded` (the JSON round trip of what `perform` returned); else `undefined`. */
  response: unknown;
  /** `failed`: the stored business error. `in_progress`: why the last attempt stopped, if it did. */
  error: (StoredBusinessError & Record<string, unknown>) | null;
  leaseOwner: string | null;
  /** `null` on an `in_progress` row: released after a transient error, free for the next attempt. */
  leaseExpiresAt: Date | null;
  attempts: number;
  /** The outcome is unknown and a person must decide (see `OutcomeUnknownError`). */
  needsAttention: boolean;
  recoveredBy: RecoveryPolicy | null;
  completedBy: 'perform' | 'verify' | null;
  /** Requests answered from this row (flushed in batches, so up to a flush interval behind). */
  replays: number;
  conflicts: number;
  inFlightRejections: number;
  createdAt: Date;
  completedAt: Date | null;
  expiresAt: Date;
}

/** The row as `pg` returns it. */
export interface RawRow {
  key: string;
  scope: string;
  operation: string;
  fingerprint: string;
  status: LedgerStatus;
  response: { v?: unknown } | null;
  error: (StoredBusinessError & Record<string, unknown>) | null;
  lease_owner: string | null;
  lease_expires_at: Date | null;
  attempts: number;
  needs_attention: boolean;
  recovered_by: RecoveryPolicy | null;
  completed_by: 'perform' | 'verify' | null;
  replays: number;
  conflicts: number;
  in_flight_rejections: number;
  created_at: Date;
  completed_at: Date | null;
  expires_at: Date;
}

/** The columns {@link Ledger.once} decides on. */
export type StateRow = Pick<
  RawRow,
  | 'fingerprint'
  | 'status'
  | 'response'
  | 'error'
  | 'lease_owner'
  | 'lease_expires_at'
  | 'attempts'
  | 'needs_attention'
  | 'created_at'
> & {
  /** When the key's compensation (`key:undo`) succeeded: the effect was done and then undone. */
  undone_at: Date | null;
};

export function toLedgerRow(raw: RawRow): LedgerRow {
  return {
    key: raw.key,
    scope: raw.scope,
    operation: raw.operation,
    fingerprint: raw.fingerprint,
    status: raw.status,
    response: raw.response?.v,
    error: raw.error,
    leaseOwner: raw.lease_owner,
    leaseExpiresAt: raw.lease_expires_at,
    attempts: raw.attempts,
    needsAttention: raw.needs_attention,
    recoveredBy: raw.recovered_by,
    completedBy: raw.completed_by,
    replays: raw.replays,
    conflicts: raw.conflicts,
    inFlightRejections: raw.in_flight_rejections,
    createdAt: raw.created_at,
    completedAt: raw.completed_at,
    expiresAt: raw.expires_at,
  };
}

/** Named statements: prepared once per connection, so the hot paths skip parsing. */
export const SQL = {
  read: {
    name: 'onceflow_ledger_read',
    text: 'SELECT * FROM idempotency_ledger WHERE key = $1',
  },
  // $2 is the key's compensation key: one primary-key probe more tells a replay that the effect was undone.
  readState: {
    name: 'onceflow_ledger_read_state',
    text: `SELECT l.fingerprint, l.status, l.response, l.error, l.lease_owner, l.lease_expires_at, l.attempts,
                  l.needs_attention, l.created_at, u.completed_at AS undone_at
             FROM idempotency_ledger l
             LEFT JOIN idempotency_ledger u ON u.key = $2 AND u.status = 'succeeded'
            WHERE l.key = $1`,
  },
  renewLeases: {
    name: 'onceflow_ledger_renew_leases',
    text: `UPDATE idempotency_ledger SET lease_expires_at = $3
            WHERE key = ANY ($1) AND lease_owner = $2 AND status = 'in_progress'
              AND lease_expires_at IS NOT NULL AND NOT needs_attention`,
  },
  // Effects of a scope carrying an undo record, not among the given keys, done or outcome unknown, and
  // not undone (their compensation key has not succeeded).
  unrecorded: {
    name: 'onceflow_ledger_unrecorded',
    text: `SELECT l.key, l.undo
             FROM idempotency_ledger l
            WHERE l.scope = $1 AND l.undo IS NOT NULL AND l.status IN ('succeeded', 'in_progress')
              AND NOT (l.key = ANY ($2))
              AND NOT EXISTS (SELECT 1 FROM idempotency_ledger u
                               WHERE u.key = l.key || ':undo' AND u.status = 'succeeded')
            ORDER BY l.created_at, l.key`,
  },
  undone: {
    name: 'onceflow_ledger_undone',
    text: `SELECT key, completed_at FROM idempotency_ledger WHERE key = ANY ($1) AND status = 'succeeded'`,
  },
  claim: {
    name: 'onceflow_ledger_claim',
    text: `INSERT INTO idempotency_ledger
             (key, scope, operation, fingerprint, status, lease_owner, lease_expires_at, created_at, expires_at, undo)
           VALUES ($1, $2, $3, $4, 'in_progress', $5, $6, $7, $8, $9)
           ON CONFLICT (key) DO NOTHING`,
  },
  // Transactional mode: a business error rolled the effect back; store the error alone, in one statement.
  insertFailed: {
    name: 'onceflow_ledger_insert_failed',
    text: `INSERT INTO idempotency_ledger
             (key, scope, operation, fingerprint, status, error, created_at, completed_at, completed_by, expires_at)
           VALUES ($1, $2, $3, $4, 'failed', $5, $6, $7, 'perform', $8)
           ON CONFLICT (key) DO NOTHING`,
  },
  // Takes over a released or expired claim; READ COMMITTED re-checks the WHERE on a concurrently
  // updated row, so of two racing take-overs exactly one matches.
  takeOver: {
    name: 'onceflow_ledger_take_over',
    text: `UPDATE idempotency_ledger
              SET lease_owner = $3, lease_expires_at = $4, attempts = attempts + 1,
                  recovered_by = COALESCE($5, recovered_by)
            WHERE key = $1 AND fingerprint = $2 AND status = 'in_progress' AND NOT needs_attention
              AND (lease_expires_at IS NULL OR lease_expires_at <= $6)
              AND lease_expires_at IS NOT DISTINCT FROM $7
        RETURNING attempts, created_at`,
  },
  // Unfenced on purpose: a perform that finished knows the outcome even if its lease was taken over or
  // escalated meanwhile, and the first outcome recorded wins.
  succeed: {
    name: 'onceflow_ledger_succeed',
    text: `UPDATE idempotency_ledger
              SET status = 'succeeded', response = $2, error = NULL, completed_at = $3, completed_by = $4,
                  lease_owner = NULL, lease_expires_at = NULL, needs_attention = false
            WHERE key = $1 AND status = 'in_progress'`,
  },
  fail: {
    name: 'onceflow_ledger_fail',
    text: `UPDATE idempotency_ledger
              SET status = 'failed', error = $2, completed_at = $3, completed_by = 'perform',
                  lease_owner = NULL, lease_expires_at = NULL, needs_attention = false
            WHERE key = $1 AND status = 'in_progress'`,
  },
  // Fenced like release: the downstream did nothing, so the claim is dropped and the key is unused.
  forget: {
    name: 'onceflow_ledger_forget',
    text: `DELETE FROM idempotency_ledger
            WHERE key = $1 AND status = 'in_progress' AND lease_owner = $2 AND attempts = $3`,
  },
  // Fenced: only the attempt holding the claim may give it back.
  release: {
    name: 'onceflow_ledger_release',
    text: `UPDATE idempotency_ledger
              SET lease_owner = NULL, lease_expires_at = NULL, error = $4
            WHERE key = $1 AND status = 'in_progress' AND lease_owner = $2 AND attempts = $3`,
  },
  // Only the crashed claim that was observed: not one that finished or was taken over since.
  escalateExpired: {
    name: 'onceflow_ledger_escalate_expired',
    text: `UPDATE idempotency_ledger
              SET needs_attention = true, error = $2, lease_owner = NULL, recovered_by = 'escalate'
            WHERE key = $1 AND status = 'in_progress' AND NOT needs_attention
              AND lease_expires_at <= $3 AND lease_expires_at = $4`,
  },
  escalate: {
    name: 'onceflow_ledger_escalate',
    text: `UPDATE idempotency_ledger
              SET needs_attention = true, error = $2, lease_owner = NULL
            WHERE key = $1 AND status = 'in_progress'`,
  },
} as const;
