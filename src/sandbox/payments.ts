import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type pg from 'pg';
import { auditPayments } from './audit.js';
import { FaultController, type FaultRule } from './faults.js';
import { parseForm } from './form.js';
import {
  BodyTooLargeError,
  handleFaultAdmin,
  listen,
  readBody,
  sendJson,
  sleep,
  type Listening,
} from './http.js';

/** A Stripe error: status plus the `error` object Stripe's SDK turns into its error classes. */
class StripeFailure extends Error {
  constructor(
    readonly status: number,
    readonly error: { type: string; message: string; code?: string; param?: string; decline_code?: string },
    readonly saveUnderKey = false,
  ) {
    super(error.message);
  }
}

const id = (prefix: string) => `${prefix}_${randomBytes(12).toString('base64url').replace(/[-_]/g, 'x')}`;
const now = () => Math.floor(Date.now() / 1000);
const KEY_RETENTION_HOURS = 24;

function invalid(message: string, param?: string, code = 'parameter_invalid'): StripeFailure {
  return new StripeFailure(400, {
    type: 'invalid_request_error',
    message,
    code,
    ...(param ? { param } : {}),
  });
}

/** A string param; absent → undefined; a nested object where a string belongs → 400. */
function str(params: Record<string, unknown>, name: string): string | undefined {
  const raw = params[name];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string') throw invalid(`Invalid string: ${name}`, name);
  return raw;
}

function int(params: Record<string, unknown>, name: string, required = true): number | undefined {
  const raw = params[name];
  if (raw === undefined) {
    if (required) throw invalid(`Missing required param: ${name}.`, name, 'parameter_missing');
    return undefined;
  }
  const value = Number(raw);
  if (typeof raw !== 'string' || !/^\d+$/.test(raw) || !Number.isSafeInteger(value)) {
    throw invalid(
      `Invalid integer: ${typeof raw === 'string' ? raw : name}`,
      name,
      'parameter_invalid_integer',
    );
  }
  return value;
}

function metadata(params: Record<string, unknown>): Record<string, string> {
  const m = params.metadata;
  if (m === undefined || m === '') return {};
  if (typeof m !== 'object' || m === null || Array.isArray(m)) throw invalid('Invalid metadata', 'metadata');
  return m as Record<string, string>;
}

interface PaymentIntentRow {
  id: string;
  amount: number;
  amount_received: number;
  amount_refunded: number;
  currency: string;
  customer: string | null;
  status: string;
  payment_method: string | null;
  description: string | null;
  metadata: Record<string, string>;
  created: string;
}

function paymentIntentObject(row: PaymentIntentRow) {
  return {
    id: row.id,
    object: 'payment_intent',
    amount: row.amount,
    amount_received: row.amount_received,
    amount_refunded: row.amount_refunded,
    currency: row.currency,
    customer: row.customer,
    status: row.status,
    payment_method: row.payment_method,
    description: row.description,
    metadata: row.metadata,
    created: Number(row.created),
    livemode: false,
  };
}

function refundObject(row: {
  id: string;
  payment_intent: string;
  amount: number;
  status: string;
  metadata: unknown;
  created: string;
}) {
  return {
    id: row.id,
    object: 'refund',
    amount: row.amount,
    payment_intent: row.payment_intent,
    status: row.status,
    metadata: row.metadata,
    created: Number(row.created),
  };
}

type Handler = (
  params: Record<string, unknown>,
  client: pg.PoolClient,
  pathId: string | undefined,
) => Promise<unknown>;

/**
 * A Stripe-compatible payments API (customers, payment intents, refunds) with Stripe's idempotency
 * semantics, its state in Postgres, driven by the official `stripe` SDK.
 */
export async function startPaymentsServer(
  pool: pg.Pool,
  options: { host: string; port: number; faults: FaultController },
): Promise<Listening> {
  const { faults } = options;
  const routes: { method: string; pattern: RegExp; mutates: boolean; handle: Handler }[] = [
    {
      method: 'POST',
      pattern: /^\/v1\/customers$/,
      mutates: true,
      handle: async (p, c) => {
        const row = { id: id('cus'), email: (p.email as string) ?? null, name: (p.name as string) ?? null };
        await c.query(
          'INSERT INTO sandbox.customers (id, email, name, metadata, created) VALUES ($1,$2,$3,$4,$5)',
          [row.id, row.email, row.name, JSON.stringify(metadata(p)), now()],
        );
        return { ...row, object: 'customer', metadata: metadata(p), livemode: false };
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/customers\/([^/]+)$/,
      mutates: false,
      handle: async (_p, c, customerId) => {
        const { rows } = await c.query('SELECT * FROM sandbox.customers WHERE id = $1', [customerId]);
        const row = rows[0] as
          { id: string; email: string; name: string; metadata: unknown; created: string } | undefined;
        if (!row) throw missing('customer', customerId);
        return { ...row, object: 'customer', created: Number(row.created), livemode: false };
      },
    },
    {
      method: 'POST',
      pattern: /^\/v1\/payment_intents$/,
      mutates: true,
      handle: async (p, c) => {
        const amount = int(p, 'amount')!;
        if (amount < 50) throw invalid('Amount must be at least 50 cents', 'amount', 'amount_too_small');
        const currency = str(p, 'currency') ?? '';
        if (!/^[a-z]{3}$/.test(currency)) throw invalid('Invalid currency', 'currency');
        const customer = str(p, 'customer') ?? null;
        if (customer) {
          const found = await c.query('SELECT 1 FROM sandbox.customers WHERE id = $1', [customer]);
          if (found.rowCount === 0) throw missing('customer', customer);
        }
        const confirm = p.confirm === 'true';
        const method = str(p, 'payment_method') ?? null;
        if (confirm && !method) throw invalid('A payment method is required to confirm', 'payment_method');
        const declined = confirm && method === 'pm_card_chargeDeclined';
        const status = !confirm
          ? 'requires_confirmation'
          : declined
            ? 'requires_payment_method'
            : 'succeeded';
        const row: PaymentIntentRow = {
          id: id('pi'),
          amount,
          amount_received: status === 'succeeded' ? amount : 0,
          amount_refunded: 0,
          currency,
          customer,
          status,
          payment_method: method,
          description: str(p, 'description') ?? null,
          metadata: metadata(p),
          created: String(now()),
        };
        await c.query(
          `INSERT INTO sandbox.payment_intents (id, amount, amount_received, currency, customer, status, payment_method, description, metadata, created)
           VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)`,
          [
            row.id,
            row.amount,
            row.amount_received,
            row.currency,
            row.customer,
            row.status,
            row.payment_method,
            row.description,
            JSON.stringify(row.metadata),
            row.created,
          ],
        );
        if (declined) {
          // Stripe saves a decline under the key: execution began.
          throw new StripeFailure(
            402,
            {
              type: 'card_error',
              code: 'card_declined',
              decline_code: 'generic_decline',
              message: 'Your card was declined.',
            },
            true,
          );
        }
        return paymentIntentObject(row);
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/payment_intents\/search$/,
      mutates: false,
      handle: async (p, c) => {
        const query = str(p, 'query') ?? '';
        const m = /^metadata\['([^']+)'\]:'([^']*)'$/.exec(query);
        if (!m)
          throw invalid(
            `Unsupported search query (sandbox supports metadata['key']:'value'): ${query}`,
            'query',
          );
        const { rows } = await c.query<PaymentIntentRow>(
          'SELECT * FROM sandbox.payment_intents WHERE metadata ->> $1 = $2 ORDER BY created DESC LIMIT 100',
          [m[1], m[2]],
        );
        return {
          object: 'search_result',
          data: rows.map(paymentIntentObject),
          has_more: false,
          next_page: null,
          url: '/v1/payment_intents/search',
        };
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/payment_intents$/,
      mutates: false,
      handle: async (p, c) => {
        const { rows } = await c.query<PaymentIntentRow>(
          p.customer === undefined
            ? 'SELECT * FROM sandbox.payment_intents ORDER BY created DESC LIMIT 100'
            : 'SELECT * FROM sandbox.payment_intents WHERE customer = $1 ORDER BY created DESC LIMIT 100',
          p.customer === undefined ? [] : [str(p, 'customer')],
        );
        return {
          object: 'list',
          data: rows.map(paymentIntentObject),
          has_more: false,
          url: '/v1/payment_intents',
        };
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/payment_intents\/([^/]+)$/,
      mutates: false,
      handle: async (_p, c, piId) => {
        const { rows } = await c.query<PaymentIntentRow>(
          'SELECT * FROM sandbox.payment_intents WHERE id = $1',
          [piId],
        );
        if (!rows[0]) throw missing('payment_intent', piId);
        return paymentIntentObject(rows[0]);
      },
    },
    {
      method: 'POST',
      pattern: /^\/v1\/refunds$/,
      mutates: true,
      handle: async (p, c) => {
        const piId = str(p, 'payment_intent');
        if (piId === undefined) {
          throw invalid('Missing required param: payment_intent.', 'payment_intent', 'parameter_missing');
        }
        const { rows } = await c.query<PaymentIntentRow>(
          'SELECT * FROM sandbox.payment_intents WHERE id = $1 FOR UPDATE',
          [piId],
        );
        const pi = rows[0];
        if (!pi) throw missing('payment_intent', piId);
        const refundable = pi.amount_received - pi.amount_refunded;
        if (refundable <= 0) {
          throw new StripeFailure(
            400,
            {
              type: 'invalid_request_error',
              code: 'charge_already_refunded',
              message: `Charge for ${pi.id} has already been refunded.`,
            },
            true,
          );
        }
        const amount = int(p, 'amount', false) ?? refundable;
        if (amount > refundable) {
          throw new StripeFailure(
            400,
            {
              type: 'invalid_request_error',
              code: 'amount_too_large',
              param: 'amount',
              message: `Refund amount (${amount}) is greater than unrefunded amount on charge (${refundable})`,
            },
            true,
          );
        }
        const refund = {
          id: id('re'),
          payment_intent: pi.id,
          amount,
          status: 'succeeded',
          metadata: metadata(p),
          created: String(now()),
        };
        await c.query(
          'INSERT INTO sandbox.refunds (id, payment_intent, amount, status, metadata, created) VALUES ($1,$2,$3,$4,$5,$6)',
          [
            refund.id,
            refund.payment_intent,
            refund.amount,
            refund.status,
            JSON.stringify(refund.metadata),
            refund.created,
          ],
        );
        await c.query(
          'UPDATE sandbox.payment_intents SET amount_refunded = amount_refunded + $2 WHERE id = $1',
          [pi.id, amount],
        );
        return refundObject(refund);
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/refunds$/,
      mutates: false,
      handle: async (p, c) => {
        const { rows } = await c.query(
          p.payment_intent === undefined
            ? 'SELECT * FROM sandbox.refunds ORDER BY created DESC LIMIT 100'
            : 'SELECT * FROM sandbox.refunds WHERE payment_intent = $1 ORDER BY created DESC LIMIT 100',
          p.payment_intent === undefined ? [] : [str(p, 'payment_intent')],
        );
        return {
          object: 'list',
          data: rows.map((r) => refundObject(r as never)),
          has_more: false,
          url: '/v1/refunds',
        };
      },
    },
  ];

  let requests = 0;
  const hanging = new Set<ServerResponse>();

  async function handle(req: IncomingMessage, res: ServerResponse) {
    requests++;
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const method = req.method ?? 'GET';
    if (url.pathname.startsWith('/__admin/') || url.pathname === '/__audit')
      return admin(req, res, url, method);

    const route = routes.find((r) => r.pattern.test(url.pathname) && r.method === method);
    if (!route) {
      const known = routes.some((r) => r.pattern.test(url.pathname));
      return stripeError(res, known ? 405 : 404, {
        type: 'invalid_request_error',
        message: `Unrecognized request URL (${method}: ${url.pathname}).`,
      });
    }
    if (!/^Bearer sk_(test|live)_\S+$/.test(req.headers.authorization ?? '')) {
      return stripeError(res, 401, {
        type: 'invalid_request_error',
        message:
          'You did not provide a valid API key. Provide your API key in the Authorization header, using Bearer auth.',
      });
    }
    let params: Record<string, unknown>;
    try {
      params = method === 'GET' ? parseForm(url.search.slice(1)) : parseForm(await readBody(req));
    } catch (err) {
      const tooLarge = err instanceof BodyTooLargeError;
      return stripeError(res, tooLarge ? 413 : 400, { type: 'invalid_request_error', message: String(err) });
    }
    const pathId = route.pattern.exec(url.pathname)?.[1];
    const key = method === 'POST' ? (req.headers['idempotency-key'] as string | undefined) : undefined;
    const fault = faults.take({ method, path: url.pathname, idempotencyKey: key });
    if (fault?.fault === 'hang') {
      hanging.add(res);
      return;
    }
    if (fault?.fault === 'fail_before_commit') {
      return stripeError(res, 500, { type: 'api_error', message: 'Sandbox fault: failed before commit.' });
    }

    const requestHash = createHash('sha256')
      .update(`${method} ${url.pathname} ${JSON.stringify(sorted(params))}`)
      .digest('hex');
    const client = await pool.connect();
    let status = 200;
    let body: unknown;
    let replayed = false;
    let claimedHere = false;
    try {
      if (key) {
        await client.query(
          `DELETE FROM sandbox.idempotency_keys WHERE key = $1 AND created_at < now() - interval '${KEY_RETENTION_HOURS} hours'`,
          [key],
        );
        const claimed = await client.query(
          `INSERT INTO sandbox.idempotency_keys (key, request_hash, status) VALUES ($1, $2, 'in_progress') ON CONFLICT (key) DO NOTHING`,
          [key, requestHash],
        );
        claimedHere = claimed.rowCount === 1;
        if (!claimedHere) {
          const { rows } = await client.query<{
            request_hash: string;
            status: string;
            response_status: number;
            response_body: unknown;
          }>(
            'SELECT request_hash, status, response_status, response_body FROM sandbox.idempotency_keys WHERE key = $1',
            [key],
          );
          const prior = rows[0];
          if (prior && prior.request_hash !== requestHash) {
            throw new StripeFailure(400, {
              type: 'idempotency_error',
              message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
            });
          }
          if (prior?.status === 'in_progress') {
            throw new StripeFailure(409, {
              type: 'invalid_request_error',
              code: 'idempotency_key_in_use',
              message:
                'There is currently another in-progress request using this Idempotent Key (that probably means you submitted twice, and the other request is still going through): ' +
                key +
                '. Please try again later.',
            });
          }
          status = prior?.response_status ?? 500;
          body = prior?.response_body;
          replayed = true;
        }
      }
      if (!replayed) {
        // Latency while executing, after the key is claimed: a concurrent same-key request sees it in use.
        if (fault?.fault === 'latency') await sleep(fault.latencyMs ?? 0);
        await client.query('BEGIN');
        try {
          body = await route.handle(params, client, pathId);
        } catch (err) {
          if (!(err instanceof StripeFailure && err.saveUnderKey)) throw err;
          status = err.status;
          body = { error: err.error };
        }
        if (key) {
          await client.query(
            `UPDATE sandbox.idempotency_keys SET status = 'done', response_status = $2, response_body = $3 WHERE key = $1`,
            [key, status, JSON.stringify(body)],
          );
        }
        await client.query('COMMIT');
      }
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      // Validation failures and server errors are not saved: the key is free for a corrected retry.
      if (key && claimedHere)
        await client
          .query(`DELETE FROM sandbox.idempotency_keys WHERE key = $1 AND status = 'in_progress'`, [key])
          .catch(() => undefined);
      if (err instanceof StripeFailure) return stripeError(res, err.status, err.error);
      throw err;
    } finally {
      client.release();
    }
    // A dropped response is dropped whether it was executed or replayed: the client sees neither.
    if (fault?.fault === 'drop_after_commit' && route.mutates) {
      req.socket.destroy();
      return;
    }
    if (fault?.fault === 'delay_after_commit' && !replayed) await sleep(fault.latencyMs ?? 0);
    sendJson(res, status, body, {
      'request-id': id('req'),
      ...(key ? { 'idempotency-key': key } : {}),
      ...(replayed ? { 'idempotent-replayed': 'true' } : {}),
    });
  }

  async function admin(req: IncomingMessage, res: ServerResponse, url: URL, method: string) {
    const admin = await handleFaultAdmin(req, res, faults, (message) => ({
      error: { type: 'invalid_request_error', message },
    }));
    if (admin) return;
    if (url.pathname === '/__admin/stats' && method === 'GET') {
      return sendJson(res, 200, { requests, faults: faults.injected() });
    }
    if (url.pathname === '/__audit' && method === 'GET') {
      const customer = url.searchParams.get('customer');
      return sendJson(res, 200, await auditPayments(pool, customer ? { customer } : {}));
    }
    return sendJson(res, 404, {
      error: { type: 'invalid_request_error', message: `Unrecognized admin route ${method} ${url.pathname}` },
    });
  }

  const listening = await listen(options.host, options.port, handle, (res, err) =>
    stripeError(res, 500, {
      type: 'api_error',
      message: `Sandbox error: ${err instanceof Error ? err.message : String(err)}`,
    }),
  );
  return {
    ...listening,
    close: async () => {
      for (const res of hanging) res.destroy();
      await listening.close();
    },
  };
}

function missing(kind: string, value: string | undefined): StripeFailure {
  return new StripeFailure(404, {
    type: 'invalid_request_error',
    code: 'resource_missing',
    param: 'id',
    message: `No such ${kind}: '${value ?? ''}'`,
  });
}

function stripeError(res: ServerResponse, status: number, error: StripeFailure['error']) {
  sendJson(res, status, { error });
}

function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sorted((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

export type { FaultRule };
