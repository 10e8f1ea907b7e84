import type pg from 'pg';

/** Counts of what the ledger did, over the rows it still retains (pruned rows leave the counts). */
export interface LedgerCounts {
  /** Keys whose effect was performed and succeeded (`completed_by = 'perform'`). */
  executed: number;
  /** Requests answered from a finished row without calling the downstream. */
  replayed: number;
  /** Same as `replayed`: the duplicates the ledger kept from reaching the downstream. */
  duplicatesPrevented: number;
  /** Requests refused because the key came with another fingerprint. */
  conflicts: number;
  /** Requests refused because another attempt held a live lease (`KEY_IN_USE`). */
  inFlightRejections: number;
  /** Keys whose crashed attempt (expired lease) was recovered, by the policy applied. */
  recoveries: { resume: number; verify: number; escalate: number };
  /** Keys that ended with a stored business error. */
  failed: number;
  /** Keys still `in_progress` (claimed, released, or crashed and not yet recovered). */
  inProgress: number;
  /** Keys marked for a person (outcome unknown). */
  needsAttention: number;
}

/** What {@link Ledger.stats} returns. */
export interface LedgerStats extends LedgerCounts {
  byOperation: Record<string, LedgerCounts>;
  /** Without a scope filter: the most active scopes (by rows), at most `top` of them. */
  byScope?: Record<string, LedgerCounts>;
}

interface CountsRow {
  group_key: string | null;
  executed: string;
  replayed: string;
  conflicts: string;
  in_flight_rejections: string;
  resume: string;
  verify: string;
  escalate: string;
  failed: string;
  in_progress: string;
  needs_attention: string;
}

const COUNTS = `
  count(*) FILTER (WHERE status = 'succeeded' AND completed_by = 'perform') AS executed,
  coalesce(sum(replays), 0) AS replayed,
  coalesce(sum(conflicts), 0) AS conflicts,
  coalesce(sum(in_flight_rejections), 0) AS in_flight_rejections,
  count(*) FILTER (WHERE recovered_by = 'resume') AS resume,
  count(*) FILTER (WHERE recovered_by = 'verify') AS verify,
  count(*) FILTER (WHERE recovered_by = 'escalate') AS escalate,
  count(*) FILTER (WHERE status = 'failed') AS failed,
  count(*) FILTER (WHERE status = 'in_progress') AS in_progress,
  count(*) FILTER (WHERE needs_attention) AS needs_attention`;

function toCounts(row: CountsRow | undefined): LedgerCounts {
  const n = (v: string | undefined) => Number(v ?? 0);
  const replayed = n(row?.replayed);
  return {
    executed: n(row?.executed),
    replayed,
    duplicatesPrevented: replayed,
    conflicts: n(row?.conflicts),
    inFlightRejections: n(row?.in_flight_rejections),
    recoveries: { resume: n(row?.resume), verify: n(row?.verify), escalate: n(row?.escalate) },
    failed: n(row?.failed),
    inProgress: n(row?.in_progress),
    needsAttention: n(row?.needs_attention),
  };
}

function byGroup(rows: CountsRow[]): Record<string, LedgerCounts> {
  return Object.fromEntries(rows.map((r) => [r.group_key ?? '', toCounts(r)]));
}

/** Aggregates the ledger's rows; `scope` filters, `top` bounds `byScope` (default 20). */
export async function queryStats(
  pool: pg.Pool,
  filter: { scope?: string | undefined; top?: number | undefined },
): Promise<LedgerStats> {
  const scope = filter.scope ?? null;
  const where = 'WHERE ($1::text IS NULL OR scope = $1)';
  const [total, byOperation] = await Promise.all([
    pool.query<CountsRow>(`SELECT NULL AS group_key, ${COUNTS} FROM idempotency_ledger ${where}`, [scope]),
    pool.query<CountsRow>(
      `SELECT operation AS group_key, ${COUNTS} FROM idempotency_ledger ${where} GROUP BY operation`,
      [scope],
    ),
  ]);
  const stats: LedgerStats = { ...toCounts(total.rows[0]), byOperation: byGroup(byOperation.rows) };
  if (filter.scope === undefined) {
    const byScope = await pool.query<CountsRow>(
      `SELECT scope AS group_key, ${COUNTS} FROM idempotency_ledger
        GROUP BY scope ORDER BY count(*) + coalesce(sum(replays), 0) DESC, scope LIMIT $1`,
      [filter.top ?? 20],
    );
    stats.byScope = byGroup(byScope.rows);
  }
  return stats;
}

type Counter = 'replays' | 'conflicts' | 'inFlight';

/**
 * Request counters that do not change a row's state (replays, conflicts, in-flight rejections),
 * buffered in memory and added to the rows by one batched UPDATE per interval, so the replay path
 * stays a single SELECT. Counts of a process that dies before a flush are lost: they are metrics,
 * not part of the exactly-once guarantee.
 */
export class CounterBuffer {
  private pending = new Map<string, Record<Counter, number>>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly pool: pg.Pool,
    private readonly intervalMs: number,
  ) {}

  add(key: string, counter: Counter): void {
    let entry = this.pending.get(key);
    if (!entry) {
      entry = { replays: 0, conflicts: 0, inFlight: 0 };
      this.pending.set(key, entry);
    }
    entry[counter] += 1;
    if (!this.timer) {
      this.timer = setTimeout(() => void this.flush().catch(() => undefined), this.intervalMs);
      this.timer.unref();
    }
  }

  /** Writes the buffered counts now; on failure they stay buffered for the next flush. */
  flush(): Promise<void> {
    const run = this.flushing.then(() => this.write());
    this.flushing = run.catch(() => undefined);
    return run;
  }

  /** Stops the timer and flushes what is buffered. */
  async close(): Promise<void> {
    await this.flush();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async write(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    // Sorted so that concurrent flushes from several processes lock rows in one order.
    const keys = [...batch.keys()].sort();
    const col = (c: Counter) => keys.map((k) => batch.get(k)![c]);
    try {
      await this.pool.query(
        `UPDATE idempotency_ledger l
            SET replays = l.replays + d.replays, conflicts = l.conflicts + d.conflicts,
                in_flight_rejections = l.in_flight_rejections + d.in_flight
           FROM unnest($1::text[], $2::int[], $3::int[], $4::int[]) AS d(key, replays, conflicts, in_flight)
          WHERE l.key = d.key`,
        [keys, col('replays'), col('conflicts'), col('inFlight')],
      );
    } catch (err) {
      for (const [key, counts] of batch) {
        for (const c of Object.keys(counts) as Counter[]) {
          for (let i = 0; i < counts[c]; i++) this.add(key, c);
        }
      }
      throw err;
    }
  }
}
