import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import type nodemailer from 'nodemailer';
import type pg from 'pg';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmailActivities, messageIdFor } from '../../../examples/order-ops/activities/email.js';
import { loadOrderConfig } from '../../../examples/order-ops/config.js';
import { createDownstreamClients, createMailer } from '../../../examples/order-ops/downstream.js';
import type { EmailInput } from '../../../examples/order-ops/types.js';
import { withLedger } from '../../../src/activities/effect-scope.js';
import { fingerprint } from '../../../src/idempotency/keys.js';
import { Ledger } from '../../../src/idempotency/ledger.js';
import type { Intent } from '../../../src/tools/effects.js';
import { testPool } from '../../idempotency/helpers.js';
import { sandboxFixture } from '../../sandbox/support.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The intent a workflow would hand sendEmail: a fresh key, recovery `verify` as the tool declares. */
function emailIntent(): Intent {
  return {
    scope: `test-${randomUUID()}`,
    key: `ik_${randomUUID()}`,
    fingerprint: fingerprint({ template: 'order_confirmation' }),
    operation: 'send_email',
    recovery: 'verify',
  };
}

function emailInput(to: string): EmailInput {
  return {
    orderId: `ord_${randomUUID().slice(0, 8)}`,
    to,
    template: 'order_confirmation',
    subject: 'Your order',
    text: 'Thanks!',
  };
}

describe('order example: pooled SMTP connections against the sandbox', () => {
  let fx: Awaited<ReturnType<typeof sandboxFixture>>;
  let mailer: nodemailer.Transporter;
  let ledger: Ledger;
  let email: ReturnType<typeof createEmailActivities>;

  beforeAll(async () => {
    fx = await sandboxFixture();
    const { payments, smtp, emailApi, model } = fx.sandbox.addresses;
    // The worker's own construction path, pointed at this file's sandbox.
    const downstream = createDownstreamClients(loadOrderConfig({}), {
      paymentsUrl: payments.url,
      smtpUrl: smtp.url,
      emailLookupUrl: emailApi.url,
      modelBaseUrl: model.baseURL,
    });
    mailer = downstream.mailer;
    ledger = new Ledger(fx.pool);
    email = createEmailActivities(mailer, { from: downstream.mailFrom, lookupUrl: emailApi.url });
  });
  afterAll(async () => {
    mailer.close();
    await ledger.close();
    await fx.close();
  });

  const smtpStats = async () => {
    const response = await fetch(`${fx.sandbox.addresses.emailApi.url}/__admin/stats`);
    return ((await response.json()) as { smtp: { connections: number; messages: number } }).smtp;
  };
  const lookup = async (messageId: string) => {
    const url = `${fx.sandbox.addresses.emailApi.url}/messages?message_id=${encodeURIComponent(messageId)}`;
    return ((await (await fetch(url)).json()) as { data: { message_id: string; to: string[] }[] }).data;
  };
  const send = (to: string, messageId: string) =>
    mailer.sendMail({ from: 'orders@onceflow.local', to, subject: 'Your order', text: 'Thanks!', messageId });

  it('sends sequential emails over one connection, each stored under its own Message-ID and envelope', async () => {
    const before = await smtpStats();
    const sent = Array.from({ length: 10 }, (_, i) => ({
      to: `seq-${i}-${randomUUID().slice(0, 6)}@example.com`,
      messageId: `<${randomUUID()}@onceflow>`,
    }));
    for (const m of sent) {
      const info = (await send(m.to, m.messageId)) as { messageId: string; accepted: string[] };
      expect(info).toMatchObject({ messageId: m.messageId, accepted: [m.to] });
    }
    const after = await smtpStats();
    expect(after.messages - before.messages).toBe(10);
    expect(after.connections - before.connections).toBe(1);
    for (const m of sent) {
      expect(await lookup(m.messageId)).toEqual([
        expect.objectContaining({ message_id: m.messageId, to: [m.to] }),
      ]);
    }
  });

  it('spreads a burst of 20 over at most 5 pooled connections', async () => {
    mailer.close(); // start from an empty pool, so the count covers exactly this burst
    const { smtp } = fx.sandbox.addresses;
    const burst = createMailer(smtp.url);
    try {
      const before = await smtpStats();
      const ids = Array.from({ length: 20 }, () => `<${randomUUID()}@onceflow>`);
      const to = `burst-${randomUUID().slice(0, 6)}@example.com`;
      await Promise.all(
        ids.map((messageId) =>
          burst.sendMail({ from: 'orders@onceflow.local', to, subject: 'Burst', text: 'x', messageId }),
        ),
      );
      const after = await smtpStats();
      expect(after.messages - before.messages).toBe(20);
      expect(after.connections - before.connections).toBeGreaterThanOrEqual(1);
      expect(after.connections - before.connections).toBeLessThanOrEqual(5);
      for (const messageId of ids) expect(await lookup(messageId)).toHaveLength(1);
    } finally {
      burst.close();
    }
    mailer = createMailer(smtp.url);
    email = createEmailActivities(mailer, {
      from: 'orders@onceflow.local',
      lookupUrl: fx.sandbox.addresses.emailApi.url,
    });
  });

  it('keeps one envelope per transaction when a client sends RSET on a reused connection', async () => {
    const { host, port } = fx.sandbox.addresses.smtp;
    const dropped = `rset-a-${randomUUID().slice(0, 6)}@example.com`;
    const kept = `rset-b-${randomUUID().slice(0, 6)}@example.com`;
    const messageId = `<${randomUUID()}@onceflow>`;
    const socket = connect(port, host);
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (buffer += chunk));
    const reply = async (code: string) => {
      for (let i = 0; i < 500 && !new RegExp(`^${code} `, 'm').test(buffer); i++) await sleep(5);
      const seen = buffer;
      buffer = '';
      expect(seen).toMatch(new RegExp(`^${code} `, 'm'));
    };
    const say = async (line: string, code: string) => {
      socket.write(`${line}\r\n`);
      await reply(code);
    };
    try {
      await reply('220');
      await say('EHLO test', '250');
      await say('MAIL FROM:<orders@onceflow.local>', '250');
      await say(`RCPT TO:<${dropped}>`, '250');
      await say('RSET', '250');
      await say('MAIL FROM:<orders@onceflow.local>', '250');
      await say(`RCPT TO:<${kept}>`, '250');
      await say('DATA', '354');
      await say(`Message-ID: ${messageId}\r\nSubject: after RSET\r\n\r\nbody\r\n.`, '250');
      await say('QUIT', '221');
    } finally {
      socket.destroy();
    }
    expect(await lookup(messageId)).toEqual([expect.objectContaining({ to: [kept] })]);
  });

  it('sends once when the sandbox drops the pooled connection after storing: the retry verifies, it does not resend', async () => {
    const intent = emailIntent();
    const messageId = messageIdFor(intent.key);
    const input = emailInput(`drop-${randomUUID().slice(0, 6)}@example.com`);
    await withLedger(ledger, () => email.sendEmail({ intent: emailIntent(), input: emailInput(input.to) }));
    fx.sandbox.faults.email.set([{ match: { messageId }, fault: 'drop_after_commit' }]);
    const before = await smtpStats();

    const failed = await withLedger(ledger, () => email.sendEmail({ intent, input })).catch(
      (e: unknown) => e,
    );
    // A dropped connection, not a refusal: a plain error Temporal retries, no SMTP code on it.
    expect(failed).not.toBeInstanceOf(ApplicationFailure);
    expect(failed).toMatchObject({ code: 'ECONNECTION' });
    expect((failed as { responseCode?: number }).responseCode).toBeUndefined();
    await sleep(300); // past nodemailer's requeue timer (50 ms + 100 ms): nothing may be resent
    expect((await smtpStats()).messages - before.messages).toBe(1);

    const retry = await withLedger(ledger, () => email.sendEmail({ intent, input }));
    expect(retry).toMatchObject({ outcome: 'recovered', result: { messageId, accepted: [input.to] } });
    const again = await withLedger(ledger, () => email.sendEmail({ intent, input }));
    expect(again.outcome).toBe('replayed');
    expect(await lookup(messageId)).toHaveLength(1);
    expect((await smtpStats()).messages - before.messages).toBe(1);
    expect(fx.sandbox.faults.email.injected().drop_after_commit).toBeGreaterThanOrEqual(1);
  });

  it('retries a 451 on a pooled connection and sends once', async () => {
    const intent = emailIntent();
    const messageId = messageIdFor(intent.key);
    const input = emailInput(`busy-${randomUUID().slice(0, 6)}@example.com`);
    fx.sandbox.faults.email.set([{ match: { messageId }, fault: 'fail_before_commit' }]);
    const failed = await withLedger(ledger, () => email.sendEmail({ intent, input })).catch(
      (e: unknown) => e,
    );
    expect(failed).not.toBeInstanceOf(ApplicationFailure);
    expect(failed).toMatchObject({ responseCode: 451 });
    expect(await lookup(messageId)).toHaveLength(0);
    const retry = await withLedger(ledger, () => email.sendEmail({ intent, input }));
    expect(retry.outcome).toBe('executed'); // verify found nothing, so it sent, once
    expect(await lookup(messageId)).toHaveLength(1);
  });
});

describe('order example: a 5xx refusal on a pooled connection', () => {
  let server: SMTPServer;
  let mailer: nodemailer.Transporter;
  let ledger: Ledger;
  let pool: pg.Pool;
  const accepted: string[] = [];

  beforeAll(async () => {
    pool = testPool(2);
    // A relay that refuses one mailbox for good and accepts the rest.
    server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onRcptTo: (address, _session, callback) => {
        if (!address.address.startsWith('nobody')) return callback();
        const err = new Error('mailbox unavailable') as Error & { responseCode: number };
        err.responseCode = 550;
        callback(err);
      },
      onData: (stream, session, callback) => {
        stream.on('data', () => undefined);
        stream.on('end', () => {
          accepted.push(...session.envelope.rcptTo.map((r) => r.address));
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.server.address() as AddressInfo;
    mailer = createMailer(`smtp://127.0.0.1:${port}`);
    ledger = new Ledger(pool);
  });
  afterAll(async () => {
    mailer.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await ledger.close();
    await pool.end();
  });

  it('fails for good with EMAIL_REJECTED, and the pool still sends the next message', async () => {
    const email = createEmailActivities(mailer, { from: 'orders@onceflow.local', lookupUrl: undefined });
    const rejected = await withLedger(ledger, () =>
      email.sendEmail({ intent: emailIntent(), input: emailInput('nobody@example.com') }),
    ).catch((e: unknown) => e);
    expect(rejected).toBeInstanceOf(ApplicationFailure);
    expect(rejected).toMatchObject({ type: 'EMAIL_REJECTED', nonRetryable: true });

    const to = `next-${randomUUID().slice(0, 6)}@example.com`;
    const next = await withLedger(ledger, () =>
      email.sendEmail({ intent: emailIntent(), input: emailInput(to) }),
    );
    expect(next.outcome).toBe('executed');
    expect(accepted).toEqual([to]);
  });
});
