import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FaultRuleError, type FaultController } from './faults.js';

/** Largest request body a sandbox server reads unless it says otherwise (`readBody`'s `maxBytes`). */
export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * How much of an oversize body `readBody` reads and discards, past its limit, before it gives up on the
 * client: the rest of the body has to be consumed for the 413 to reach an HTTP client that is still
 * sending, but a sandbox should not read without end.
 */
const MAX_DRAIN_BYTES = 256 * 1024 * 1024;

/** The request body is larger than the server accepts: answer 413 (the body has been drained). */
export class BodyTooLargeError extends Error {
  readonly code = 'BODY_TOO_LARGE';
  constructor(readonly limit: number) {
    super(`body larger than ${limit} bytes`);
  }
}

/** Options of {@link readBody}. */
export interface ReadBodyOptions {
  /** Largest body accepted, in bytes. Default {@link MAX_BODY_BYTES}. */
  maxBytes?: number;
}

/**
 * Reads the request body as text. A body past `maxBytes` is not buffered: the rest is read and
 * discarded to its end, then the promise rejects with {@link BodyTooLargeError}, so the caller can still
 * answer 413 on a connection the client is reading. (Destroying the socket instead makes clients report
 * a connection error, which they retry.) Past a far larger bound the client is stopped (request paused)
 * and the promise rejects at once.
 */
export function readBody(req: IncomingMessage, options: ReadBodyOptions = {}): Promise<string> {
  const limit = options.maxBytes ?? MAX_BODY_BYTES;
  const drainLimit = Math.max(MAX_DRAIN_BYTES, limit * 2);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    const declared = Number(req.headers['content-length']);
    if (declared > drainLimit) {
      req.pause();
      reject(new BodyTooLargeError(limit));
      return;
    }
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > drainLimit) {
        req.pause();
        reject(new BodyTooLargeError(limit));
        return;
      }
      if (size > limit) tooLarge = true;
      if (tooLarge) {
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () =>
      tooLarge ? reject(new BodyTooLargeError(limit)) : resolve(Buffer.concat(chunks).toString('utf8')),
    );
    req.on('error', reject);
  });
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  if (res.destroyed || res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A listening HTTP server and its closer (which also ends open and hanging connections). */
export interface Listening {
  server: Server;
  port: number;
  close: () => Promise<void>;
}

/** Starts `handler` on host:port (0 = ephemeral); a handler that throws answers 500 instead of crashing. */
export async function listen(
  host: string,
  port: number,
  handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  onError: (res: ServerResponse, err: unknown) => void,
): Promise<Listening> {
  const server = createServer((req, res) => {
    handler(req, res).catch((err: unknown) => onError(res, err));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * The fault-injection admin routes every sandbox service shares: `POST /__admin/faults` (a bad rule set
 * → 400 via `badRequest`), `DELETE /__admin/faults`. Returns false when the route is not one of these.
 */
export async function handleFaultAdmin(
  req: IncomingMessage,
  res: ServerResponse,
  faults: FaultController,
  badRequest: (message: string) => unknown,
): Promise<boolean> {
  const path = new URL(req.url ?? '/', 'http://sandbox').pathname;
  if (path !== '/__admin/faults') return false;
  if (req.method === 'DELETE') {
    faults.clear();
    sendJson(res, 200, { ok: true });
    return true;
  }
  if (req.method !== 'POST') return false;
  try {
    const body = JSON.parse(await readBody(req)) as { rules?: unknown; seed?: number };
    faults.set(body.rules, body.seed);
    sendJson(res, 200, { ok: true });
  } catch (err) {
    sendJson(
      res,
      400,
      badRequest(err instanceof FaultRuleError ? err.message : `invalid JSON body: ${String(err)}`),
    );
  }
  return true;
}
