import { createHash } from 'node:crypto';
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
import { idempotency, type StoredResponse } from './payments-idempotency.js';
import { StripeFailure, withDocUrl, type StripeErrorBody } from './payments/errors.js';
import { PAYMENT_ROUTES } from './payments/routes.js';
import { newId } from './payments/route.js';

const KEY_RETENTION_HOURS = 24;

/**
 * A Stripe-compatible payments API (customers, payment intents, charges, refunds) with Stripe's
 * idempotency semantics, its state in Postgres, driven by the official `stripe` SDK. Objects and
 * errors follow Stripe's OpenAPI spec (see test/sandbox/payments-spec.test.ts).
 */
export async function startPaymentsServer(
  pool: pg.Pool,
  options: { host: string; port: number; faults: FaultController },
): Promise<Listening> {
  const { faults } = options;
  const idempotent = idempotency({
    pool,
    retentionHours: KEY_RETENTION_HOURS,
    onError: (err) => ({
      status: err.status,
      body: {
        error: withDocUrl(
          err.reason === 'mismatch'
            ? { type: 'idempotency_error', message: err.message }
            : { type: 'invalid_request_error', code: 'idempotency_key_in_use', message: err.message },
        ),
      },
    }),
  });
  let requests = 0;
  const hanging = new Set<ServerResponse>();

  async function handle(req: IncomingMessage, res: ServerResponse) {
    requests++;
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const method = req.method ?? 'GET';
    if (url.pathname.startsWith('/__admin/') || url.pathname === '/__audit')
      return admin(req, res, url, method);

    const route = PAYMENT_ROUTES.find((r) => r.pattern.test(url.pathname) && r.method === method);
    if (!route) {
      const known = PAYMENT_ROUTES.some((r) => r.pattern.test(url.pathname));
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
      const message = err instanceof Error ? err.message : String(err);
      return stripeError(res, tooLarge ? 413 : 400, { type: 'invalid_request_error', message });
    }
    const pathId = route.pattern.exec(url.pathname)?.[1];
    const header = req.headers['idempotency-key'];
    const key = method === 'POST' && typeof header === 'string' ? header : undefined;
    const fault = faults.take({ method, path: url.pathname, idempotencyKey: key });
    if (fault?.fault === 'hang') {
      hanging.add(res);
      return;
    }
    if (fault?.fault === 'fail_before_commit') {
      return stripeError(res, 500, { type: 'api_error', message: 'Sandbox fault: failed before commit.' });
    }

    const fingerprint = createHash('sha256')
      .update(`${method} ${url.pathname} ${JSON.stringify(sorted(params))}`)
      .digest('hex');
    let answer: StoredResponse & { replayed: boolean };
    try {
      answer = await idempotent({ key, fingerprint }, async (client) => {
        // Latency while executing, after the key is claimed: a concurrent same-key request sees it in use.
        if (fault?.fault === 'latency') await sleep(fault.latencyMs ?? 0);
        try {
          return { status: 200, body: await route.handle({ params, client, pathId }) };
        } catch (err) {
          if (!(err instanceof StripeFailure && err.saveUnderKey)) throw err;
          return { status: err.status, body: { error: err.error } };
        }
      });
    } catch (err) {
      if (err instanceof StripeFailure) return stripeError(res, err.status, err.error);
      throw err;
    }
    // A dropped response is dropped whether it was executed or replayed: the client sees neither.
    if (fault?.fault === 'drop_after_commit' && route.mutates) {
      req.socket.destroy();
      return;
    }
    if (fault?.fault === 'delay_after_commit' && !answer.replayed) await sleep(fault.latencyMs ?? 0);
    sendJson(res, answer.status, answer.body, {
      'request-id': newId('req'),
      ...(key ? { 'idempotency-key': key } : {}),
      ...(answer.replayed ? { 'idempotent-replayed': 'true' } : {}),
    });
  }

  async function admin(req: IncomingMessage, res: ServerResponse, url: URL, method: string) {
    const handled = await handleFaultAdmin(req, res, faults, (message) => ({
      error: { type: 'invalid_request_error', message },
    }));
    if (handled) return;
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

/** Every error answer carries a `request-id`, like Stripe's, and a `doc_url` when it has a code. */
function stripeError(res: ServerResponse, status: number, error: StripeErrorBody) {
  sendJson(res, status, { error: withDocUrl(error) }, { 'request-id': newId('req') });
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
