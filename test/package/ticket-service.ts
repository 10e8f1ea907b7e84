import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A tiny tickets API that honours `Idempotency-Key`, for the out-of-tree agent test. */
export interface TicketService {
  url: string;
  /** Tickets created, by idempotency key: each must be created once. */
  created: Map<string, { id: string; body: unknown }>;
  /** Every POST received, replays included. */
  posts: number;
  /** Commit the next new ticket, then drop the connection without answering. */
  dropNextResponse(): void;
  close(): Promise<void>;
}

async function bodyOf(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
}

export async function startTicketService(): Promise<TicketService> {
  let drop = false;
  const state = { posts: 0 };
  const created = new Map<string, { id: string; body: unknown }>();
  const server = createServer((req, res) => {
    void (async () => {
      const key = req.headers['idempotency-key'];
      if (req.method !== 'POST' || req.url !== '/tickets' || typeof key !== 'string') {
        res.writeHead(400).end();
        return;
      }
      state.posts++;
      const body = await bodyOf(req);
      const existing = created.get(key);
      const ticket = existing ?? { id: `tkt_${created.size + 1}`, body };
      created.set(key, ticket);
      if (!existing && drop) {
        drop = false;
        req.socket.destroy(); // committed, but the caller never hears so
        return;
      }
      res.writeHead(existing ? 200 : 201, { 'content-type': 'application/json' }).end(JSON.stringify(ticket));
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    created,
    get posts() {
      return state.posts;
    },
    dropNextResponse: () => {
      drop = true;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
