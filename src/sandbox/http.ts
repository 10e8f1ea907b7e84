import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FaultRuleError, type FaultController } from './faults.js';

/** Largest request body the sandbox servers read. */
export const MAX_BODY_BYTES = 1024 * 1024;

export class BodyTooLargeError extends Error {}

/** Reads the request body as text (rejects past {@link MAX_BODY_BYTES}). */
export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new BodyTooLargeError(`body larger than ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
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
