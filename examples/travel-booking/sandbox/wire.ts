import type { IncomingMessage, ServerResponse } from 'node:http';

/** Largest request body accepted: 1 MiB. A larger one is answered 413. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** Past this many bytes of an oversize body the server stops reading and drops the connection. */
const MAX_DRAIN_BYTES = 64 * 1024 * 1024;

/** The body was larger than {@link MAX_BODY_BYTES}; it has been read to its end and discarded. */
export class BodyTooLargeError extends Error {
  constructor(readonly drained: boolean) {
    super(`request body larger than ${MAX_BODY_BYTES} bytes`);
  }
}

/**
 * Reads the whole request body. An oversize body is read on to its end without being kept, so that
 * the 413 reaches a client that is still sending (a destroyed socket would look like a network error,
 * which clients retry); past {@link MAX_DRAIN_BYTES} the request is abandoned (`drained: false`).
 */
export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_DRAIN_BYTES) {
        req.pause();
        reject(new BodyTooLargeError(false));
      } else if (size <= MAX_BODY_BYTES) {
        chunks.push(chunk);
      } else {
        chunks.length = 0;
      }
    });
    req.on('end', () =>
      size > MAX_BODY_BYTES ? reject(new BodyTooLargeError(true)) : resolve(Buffer.concat(chunks)),
    );
    req.on('error', reject);
  });
}

/** Whether the request declares a JSON body (`application/json`, any parameters). */
export function isJson(req: IncomingMessage): boolean {
  const type = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  return type === 'application/json';
}

/** Answers with a JSON body (no-op once the response is under way or the socket is gone). */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}
