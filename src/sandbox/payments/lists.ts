import type pg from 'pg';
import { invalid, missing } from './errors.js';
import { expandList } from './expand.js';
import type { StripeObject } from './objects.js';
import { expandPaths, int, str, type Params } from './params.js';
import type { Kind } from './store.js';

/** Parameters every list endpoint takes, besides its own filters. */
export const LIST_PARAMS = ['limit', 'starting_after', 'ending_before', 'expand'] as const;

/** Stripe's `limit`: 1 to 100, default 10. */
export function limitOf(params: Params): number {
  const limit = int(params, 'limit') ?? 10;
  if (limit < 1)
    throw invalid('This value must be greater than or equal to 1.', 'limit', 'parameter_invalid_integer');
  if (limit > 100)
    throw invalid('This value must be less than or equal to 100.', 'limit', 'parameter_invalid_integer');
  return limit;
}

/** Filters of one list request: SQL conditions on alias `t` with their values ($1, $2, … in order). */
export interface Filter {
  where: string[];
  values: unknown[];
}

async function seqOf(client: pg.PoolClient, kind: Kind<never>, id: string, param: string): Promise<string> {
  const { rows } = await client.query<{ seq: string }>(`SELECT t.seq FROM ${kind.from} WHERE t.id = $1`, [
    id,
  ]);
  if (!rows[0]) throw missing(kind.name, id, param, 'param');
  return rows[0].seq;
}

/**
 * One page of a Stripe list (`object: 'list'`), newest first. `starting_after` pages towards older
 * objects, `ending_before` towards newer ones; `has_more` says whether that direction has more.
 */
export async function listPage(
  client: pg.PoolClient,
  kind: Kind<never>,
  params: Params,
  url: string,
  filter: Filter,
): Promise<StripeObject> {
  const limit = limitOf(params);
  const after = str(params, 'starting_after');
  const before = str(params, 'ending_before');
  if (after !== undefined && before !== undefined) {
    throw invalid(
      'You may only specify one of these parameters: ending_before, starting_after.',
      'ending_before',
    );
  }
  const where = [...filter.where];
  const values = [...filter.values];
  if (after !== undefined) {
    values.push(await seqOf(client, kind, after, 'starting_after'));
    where.push(`t.seq < $${values.length}`);
  }
  if (before !== undefined) {
    values.push(await seqOf(client, kind, before, 'ending_before'));
    where.push(`t.seq > $${values.length}`);
  }
  const order = before !== undefined ? 'ASC' : 'DESC';
  const { rows } = await client.query<never>(
    `SELECT ${kind.select} FROM ${kind.from} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY t.seq ${order} LIMIT ${limit + 1}`,
    values,
  );
  const page = rows.slice(0, limit);
  if (before !== undefined) page.reverse();
  return {
    object: 'list',
    data: await expandList(client, page.map(kind.toObject), expandPaths(params)),
    has_more: rows.length > limit,
    url,
  };
}
