import type pg from 'pg';

/**
 * Runs a batched `DELETE` until a batch deletes fewer rows than `batchSize`, so a prune never holds
 * one long transaction over a large table. `sql` takes `params` and then the batch size as its last
 * parameter (its `LIMIT`). Returns how many rows were deleted.
 */
export async function deleteInBatches(
  pool: pg.Pool,
  sql: string,
  params: unknown[],
  batchSize: number,
): Promise<number> {
  let total = 0;
  for (;;) {
    const { rowCount } = await pool.query(sql, [...params, batchSize]);
    total += rowCount ?? 0;
    if ((rowCount ?? 0) < batchSize) return total;
  }
}
