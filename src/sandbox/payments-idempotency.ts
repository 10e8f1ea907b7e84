import type pg from 'pg';

/** An answer of the payments API: status and JSON body. */
export interface StoredResponse {
  status: number;
  body: unknown;
}

/**
 * A request the Idempotency-Key semantics refuse: the key was first used with other parameters (400
 * `idempotency_error`), or a request with it is still executing (409 `idempotency_key_in_use`).
 */
export class IdempotencyError extends Error {
  constructor(
    readonly reason: 'mismatch' | 'in_use',
    readonly key: string,
  ) {
    super(
      reason === 'mismatch'
        ? `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`
        : `There is currently another in-progress request using this Idempotent Key (that probably means you submitted twice, and the other request is still going through): ${key}. Please try again later.`,
    );
  }

  /** The HTTP status Stripe answers it with. */
  get status(): 400 | 409 {
    return this.reason === 'mismatch' ? 400 : 409;
  }
}

/** Options of {@link idempotency}. */
export interface IdempotencyOptions {
  pool: pg.Pool;
  /** How long a key's first answer is replayed; Stripe keeps keys 24 hours. */
  retentionHours?: number;
  /** Turns a refused request into an answer; without it the {@link IdempotencyError} is thrown. */
  onError?: (err: IdempotencyError) => StoredResponse;
}

/** One request as the middleware sees it. */
export interface IdempotentRequest {
  /** The `Idempotency-Key` header, if any (POST only: Stripe ignores it on GET). */
  key: string | undefined;
  /** Digest of method, path and parameters: the same key with another fingerprint is refused. */
  fingerprint: string;
}

/**
 * Executes the request inside the open transaction on `client`: an answer to store, or a throw for a
 * failure that must not be stored (validation, server error), which rolls everything back and frees
 * the key for a corrected retry.
 */
export type Execute = (client: pg.PoolClient) => Promise<StoredResponse>;

/** The middleware: the answer, and whether it was replayed from the key rather than executed now. */
export type IdempotencyHandler = (
  request: IdempotentRequest,
  execute: Execute,
) => Promise<StoredResponse & { replayed: boolean }>;

interface KeyRow {
  request_hash: string;
  status: 'in_progress' | 'done';
  response_status: number | null;
  response_body: unknown;
}

/**
 * Stripe's Idempotency-Key semantics over Postgres (`sandbox.idempotency_keys`): the first request
 * with a key claims it and runs; its answer is stored in the same transaction as its effects, so an
 * answer exists exactly when the effects do. A later request with the key and the same parameters gets
 * that answer replayed; with other parameters, `idempotency_error`; while the first still runs, 409.
 */
export function idempotency(options: IdempotencyOptions): IdempotencyHandler {
  const retention = options.retentionHours ?? 24;
  if (!Number.isFinite(retention) || retention <= 0) throw new Error('retentionHours must be positive');

  return async function idempotent(request, execute) {
    const client = await options.pool.connect();
    const { key } = request;
    let claimedHere = false;
    try {
      if (key) {
        await client.query(
          `DELETE FROM sandbox.idempotency_keys WHERE key = $1 AND created_at < now() - make_interval(hours => $2)`,
          [key, retention],
        );
        const claimed = await client.query(
          `INSERT INTO sandbox.idempotency_keys (key, request_hash, status) VALUES ($1, $2, 'in_progress') ON CONFLICT (key) DO NOTHING`,
          [key, request.fingerprint],
        );
        claimedHere = claimed.rowCount === 1;
        if (!claimedHere) {
          const { rows } = await client.query<KeyRow>(
            'SELECT request_hash, status, response_status, response_body FROM sandbox.idempotency_keys WHERE key = $1',
            [key],
          );
          const prior = rows[0];
          if (prior && prior.request_hash !== request.fingerprint)
            throw new IdempotencyError('mismatch', key);
          if (prior?.status === 'in_progress') throw new IdempotencyError('in_use', key);
          return { status: prior?.response_status ?? 500, body: prior?.response_body, replayed: true };
        }
      }
      await client.query('BEGIN');
      const response = await execute(client);
      if (key) {
        await client.query(
          `UPDATE sandbox.idempotency_keys SET status = 'done', response_status = $2, response_body = $3 WHERE key = $1`,
          [key, response.status, JSON.stringify(response.body)],
        );
      }
      await client.query('COMMIT');
      return { ...response, replayed: false };
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      // Only the request that claimed the key frees it: a refused duplicate must not free the key
      // of the request still in flight.
      if (key && claimedHere) {
        await client
          .query(`DELETE FROM sandbox.idempotency_keys WHERE key = $1 AND status = 'in_progress'`, [key])
          .catch(() => undefined);
      }
      if (err instanceof IdempotencyError && options.onError)
        return { ...options.onError(err), replayed: false };
      throw err;
    } finally {
      client.release();
    }
  };
}
