import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { TravelFaults } from './faults.js';
import {
  ALLOWED_METHODS,
  cancel,
  errorAnswer,
  get,
  list,
  matchRoute,
  reserve,
  type Answer,
} from './routes.js';
import { ReservationStore, type TravelAudit } from './store.js';
import { BodyTooLargeError, isJson, MAX_BODY_BYTES, readBody, sendJson } from './wire.js';

/** Options of {@link startTravelSandbox}. */
export interface TravelSandboxOptions {
  /** Port on 127.0.0.1; default 0 (an ephemeral port). */
  port?: number;
}

/** A running travel reservations sandbox. */
export interface TravelSandbox {
  /** Base URL, e.g. `http://127.0.0.1:41234` (no trailing slash). */
  url: string;
  /** One-shot fault injection on writes. */
  faults: TravelFaults;
  /** Reservations and commits per kind and reference. */
  audit(): TravelAudit;
  /** Stops listening and ends open connections. */
  close(): Promise<void>;
}

const send = (res: ServerResponse, answer: Answer) =>
  sendJson(res, answer.status, answer.body, answer.headers);

/**
 * Parses a JSON body: it must say `application/json` (else 415) and parse (else 400). An `optional`
 * body (a cancel's) may also be empty.
 */
function parseJson(req: IncomingMessage, raw: Buffer, optional: boolean): { body: unknown } | Answer {
  if (optional && raw.length === 0) return { body: undefined };
  if (!isJson(req)) {
    return errorAnswer(
      415,
      'unsupported_media_type',
      'the body must be JSON (content-type: application/json)',
    );
  }
  try {
    return { body: JSON.parse(raw.toString('utf8')) as unknown };
  } catch {
    return errorAnswer(400, 'invalid_request', 'the body is not valid JSON');
  }
}

/** Routes one request; faults apply to writes, after the body is read and before it is handled. */
async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  store: ReservationStore,
  faults: TravelFaults,
) {
  const url = new URL(req.url ?? '/', 'http://travel.local');
  const route = matchRoute(url.pathname);
  const method = req.method ?? 'GET';
  const raw = await readBody(req);
  if (!route) return send(res, errorAnswer(404, 'not_found', `no route for ${method} ${url.pathname}`));
  const allowed = ALLOWED_METHODS[route.name];
  if (!allowed.includes(method)) {
    const answer = errorAnswer(405, 'method_not_allowed', `${method} is not allowed on ${url.pathname}`);
    return send(res, { ...answer, headers: { allow: allowed.join(', ') } });
  }
  if (method === 'GET') {
    const { kind } = route;
    return send(
      res,
      route.name === 'item' ? get(store, kind, route.reference) : list(store, kind, url.searchParams),
    );
  }

  const fault = faults.take(route.kind, route.name === 'cancel' ? 'cancel' : 'reserve');
  if (fault?.fault === 'fail') {
    const type = fault.status === 429 ? 'rate_limited' : 'service_unavailable';
    return send(res, errorAnswer(fault.status, type, `injected ${fault.status}: nothing was committed`));
  }
  if (fault?.fault === 'delay') await sleep(fault.ms);
  const parsed = parseJson(req, raw, route.name === 'cancel');
  const answer =
    'status' in parsed
      ? parsed
      : route.name === 'cancel'
        ? cancel(store, route.kind, route.reference)
        : reserve(store, route.kind, parsed.body);
  if (fault?.fault === 'drop_after_commit') return void req.socket.destroy();
  send(res, answer);
}

function onError(req: IncomingMessage, res: ServerResponse, err: unknown): void {
  if (err instanceof BodyTooLargeError) {
    if (!err.drained) return void req.socket.destroy();
    const message = `the body is larger than ${MAX_BODY_BYTES} bytes`;
    return send(res, errorAnswer(413, 'payload_too_large', message));
  }
  send(res, errorAnswer(500, 'internal_error', err instanceof Error ? err.message : String(err)));
}

/**
 * Starts the travel reservations sandbox on 127.0.0.1: flights, hotels and cars, each booked under a
 * client-chosen reference that is the booking's idempotency key. State is in memory, per instance.
 */
export async function startTravelSandbox(options: TravelSandboxOptions = {}): Promise<TravelSandbox> {
  const store = new ReservationStore();
  const faults = new TravelFaults();
  const server = createServer((req, res) => {
    handle(req, res, store, faults).catch((err: unknown) => onError(req, res, err));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    faults,
    audit: () => store.audit(),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
