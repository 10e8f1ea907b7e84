import type pg from 'pg';

/** A person's approval of one effect: its key and terms (fingerprint), who, why and when. */
export interface EffectApproval {
  key: string;
  fingerprint: string;
  scope: string;
  /** Why approval was needed (the tool's approval rule). */
  reason: string;
  approvedBy: string | null;
  note: string | null;
  approvedAt: Date;
}

/** Records an approval; the same key and terms again is a no-op (activity retries). */
export async function recordApproval(pool: pg.Pool, a: EffectApproval): Promise<void> {
  await pool.query(
    `INSERT INTO effect_approvals (key, fingerprint, scope, reason, approved_by, note, approved_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (key, fingerprint) DO NOTHING`,
    [a.key, a.fingerprint, a.scope, a.reason, a.approvedBy, a.note, a.approvedAt],
  );
}

/** The approvals recorded for one task (scope), oldest first. */
export async function approvalsOf(pool: pg.Pool, scope: string): Promise<EffectApproval[]> {
  const { rows } = await pool.query<{
    key: string;
    fingerprint: string;
    scope: string;
    reason: string;
    approved_by: string | null;
    note: string | null;
    approved_at: Date;
  }>(
    `SELECT key, fingerprint, scope, reason, approved_by, note, approved_at
       FROM effect_approvals WHERE scope = $1 ORDER BY approved_at, key`,
    [scope],
  );
  return rows.map((r) => ({
    key: r.key,
    fingerprint: r.fingerprint,
    scope: r.scope,
    reason: r.reason,
    approvedBy: r.approved_by,
    note: r.note,
    approvedAt: r.approved_at,
  }));
}

/** Deletes approvals whose effect's ledger row is gone (pruned) and that are older than a day. */
export async function pruneApprovals(pool: pg.Pool, now: Date): Promise<number> {
  const { rowCount } = await pool.query(
    `DELETE FROM effect_approvals a
      WHERE a.recorded_at < $1::timestamptz - interval '1 day'
        AND NOT EXISTS (SELECT 1 FROM idempotency_ledger l WHERE l.key = a.key)`,
    [now],
  );
  return rowCount ?? 0;
}
