import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import type pg from 'pg';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import { auditEmail } from './audit.js';
import type { FaultController } from './faults.js';
import { handleFaultAdmin, listen, sendJson, sleep, type Listening } from './http.js';

/** What the SMTP server has seen since it started: how clients connect, not only what they send. */
export interface SmtpStats {
  /** TCP connections accepted; a pooled client sends many messages over one. */
  connections: number;
  /** Messages stored (DATA committed), duplicates included. */
  messages: number;
}

/**
 * An SMTP server that stores every message it accepts (SMTP has no idempotency: duplicates are kept).
 * A connection may carry any number of transactions (MAIL FROM again after a 250, or after RSET), as
 * a pooled client sends them; each is stored with its own envelope.
 */
export async function startSmtpServer(
  pool: pg.Pool,
  options: { host: string; port: number; faults: FaultController },
): Promise<{ port: number; stats: () => SmtpStats; close: () => Promise<void> }> {
  const stats: SmtpStats = { connections: 0, messages: 0 };
  const server: SMTPServer = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onConnect: (_session, callback) => {
      stats.connections++;
      callback();
    },
    onAuth: (_auth, _session, callback) => callback(null, { user: 'sandbox' }),
    onData: (stream, session, callback) => {
      void receive(stream, session)
        .then((outcome) => {
          if (outcome === 'drop') return dropConnection(server, session);
          if (outcome instanceof Error) return callback(outcome);
          callback();
        })
        .catch((err: unknown) => callback(err instanceof Error ? err : new Error(String(err))));
    },
  });

  async function receive(
    stream: NodeJS.ReadableStream,
    session: SMTPServerSession,
  ): Promise<'ok' | 'drop' | Error> {
    const parsed = await simpleParser(stream as never);
    const messageId = parsed.messageId ?? null;
    const recipients = session.envelope.rcptTo.map((r) => r.address);
    const fault = options.faults.take({ method: 'DATA', path: '/smtp', messageId: messageId ?? undefined });
    if (fault?.fault === 'latency') await sleep(fault.latencyMs ?? 0);
    if (fault?.fault === 'fail_before_commit') {
      const err = new Error('Sandbox fault: temporary failure, message not stored') as Error & {
        responseCode: number;
      };
      err.responseCode = 451;
      return err;
    }
    if (fault?.fault === 'hang') return new Promise(() => undefined);
    await pool.query(
      'INSERT INTO sandbox.emails (message_id, mail_from, rcpt_to, subject, text) VALUES ($1, $2, $3, $4, $5)',
      [
        messageId,
        session.envelope.mailFrom ? session.envelope.mailFrom.address : null,
        recipients,
        parsed.subject ?? null,
        parsed.text ?? null,
      ],
    );
    stats.messages++;
    if (fault?.fault === 'drop_after_commit') return 'drop';
    if (fault?.fault === 'delay_after_commit') await sleep(fault.latencyMs ?? 0);
    return 'ok';
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  // smtp-server logs and keeps going on socket errors; a dropped client must not crash the process.
  server.on('error', () => undefined);
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    stats: () => ({ ...stats }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const connection of connectionsOf(server)) connection._socket?.destroy();
        server.close(() => resolve());
      }),
  };
}

interface SmtpConnection {
  id: string;
  _socket?: { destroy: () => void };
}

function connectionsOf(server: SMTPServer): SmtpConnection[] {
  return [...((server as unknown as { connections: Set<SmtpConnection> }).connections ?? [])];
}

/** Accept-then-drop: the message is stored but the client never sees the final 250. */
function dropConnection(server: SMTPServer, session: SMTPServerSession) {
  for (const connection of connectionsOf(server)) {
    if (connection.id === session.id) connection._socket?.destroy();
  }
}

/**
 * The mailbox's HTTP side: lookups by Message-ID or recipient, fault control for SMTP, the audit, and
 * `GET /__admin/stats` (faults injected, plus the SMTP server's {@link SmtpStats} when given).
 */
export async function startEmailApi(
  pool: pg.Pool,
  options: { host: string; port: number; faults: FaultController; smtpStats?: () => SmtpStats },
): Promise<Listening> {
  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const method = req.method ?? 'GET';
    if (url.pathname === '/messages') {
      if (method !== 'GET')
        return sendJson(res, 405, { error: { message: `${method} not allowed on /messages` } });
      const messageId = url.searchParams.get('message_id');
      const to = url.searchParams.get('to');
      if (!messageId && !to) return sendJson(res, 400, { error: { message: 'give message_id or to' } });
      const { rows } = await pool.query(
        `SELECT message_id, mail_from AS from, rcpt_to AS to, subject, text, received_at
           FROM sandbox.emails
          WHERE ($1::text IS NULL OR message_id = $1) AND ($2::text IS NULL OR lower($2) = ANY (SELECT lower(x) FROM unnest(rcpt_to) x))
          ORDER BY id LIMIT 500`,
        [messageId, to],
      );
      return sendJson(res, 200, { data: rows });
    }
    if (await handleFaultAdmin(req, res, options.faults, (message) => ({ error: { message } }))) return;
    if (url.pathname === '/__admin/stats' && method === 'GET')
      return sendJson(res, 200, {
        faults: options.faults.injected(),
        ...(options.smtpStats ? { smtp: options.smtpStats() } : {}),
      });
    if (url.pathname === '/__audit' && method === 'GET') {
      const to = url.searchParams.get('to');
      return sendJson(res, 200, await auditEmail(pool, to ? { to } : {}));
    }
    return sendJson(res, 404, { error: { message: `no route ${method} ${url.pathname}` } });
  }
  return listen(options.host, options.port, handle, (res, err) =>
    sendJson(res, 500, { error: { message: err instanceof Error ? err.message : String(err) } }),
  );
}
