import { createHash } from 'node:crypto';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type pg from 'pg';

/** How long a key's first result is replayed; Stripe keeps Idempotency-Keys 24 hours. */
const RETENTION_HOURS = 24;

/**
 * What claiming an intent key found: the key is now this call's (`claimed`), it was done with the
 * same fingerprint (`replay`, with the stored result), with another one (`conflict`), or its first call
 * has not finished (`in_progress`).
 */
export type IntentClaim =
  | { kind: 'claimed' }
  | { kind: 'replay'; result: CallToolResult }
  | { kind: 'conflict' }
  | { kind: 'in_progress' };

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/** Digest of tool and arguments, key order aside: one key reused for another call is a conflict. */
export function fingerprint(tool: string, args: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify([tool, canonical(args)]))
    .digest('hex');
}

/**
 * Claims `key` for a call (autocommitted, so a concurrent call with the key sees it in progress), or
 * reports what an earlier call with it left. An expired key is forgotten first.
 */
export async function claimIntent(pool: pg.Pool, key: string, print: string): Promise<IntentClaim> {
  await pool.query(
    `DELETE FROM sandbox.mcp_intents WHERE intent_key = $1 AND created_at < now() - make_interval(hours => $2)`,
    [key, RETENTION_HOURS],
  );
  const claimed = await pool.query(
    `INSERT INTO sandbox.mcp_intents (intent_key, fingerprint, status) VALUES ($1, $2, 'in_progress')
     ON CONFLICT (intent_key) DO NOTHING`,
    [key, print],
  );
  if (claimed.rowCount === 1) return { kind: 'claimed' };
  const { rows } = await pool.query<{ fingerprint: string; status: string; result: CallToolResult | null }>(
    'SELECT fingerprint, status, result FROM sandbox.mcp_intents WHERE intent_key = $1',
    [key],
  );
  const prior = rows[0];
  // Gone between the insert and the select (expired and freed by its failed first call): claim again.
  if (!prior) return claimIntent(pool, key, print);
  if (prior.fingerprint !== print) return { kind: 'conflict' };
  if (prior.status !== 'done' || !prior.result) return { kind: 'in_progress' };
  return { kind: 'replay', result: prior.result };
}

/** Stores the key's first result on the effect's own transaction: a result exists iff the effect does. */
export async function completeIntent(
  client: pg.PoolClient,
  key: string,
  result: CallToolResult,
): Promise<void> {
  await client.query(`UPDATE sandbox.mcp_intents SET status = 'done', result = $2 WHERE intent_key = $1`, [
    key,
    JSON.stringify(result),
  ]);
}

/** Frees a key whose call failed before committing, so a retry with it runs afresh. */
export async function releaseIntent(pool: pg.Pool, key: string): Promise<void> {
  await pool.query(`DELETE FROM sandbox.mcp_intents WHERE intent_key = $1 AND status = 'in_progress'`, [key]);
}
