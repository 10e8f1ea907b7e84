import { randomUUID } from 'node:crypto';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEmail } from '../../src/sandbox/audit.js';
import { sandboxFixture } from './support.js';

describe('email sandbox: SMTP through nodemailer, lookup over HTTP', () => {
  let fx: Awaited<ReturnType<typeof sandboxFixture>>;
  let mailer: nodemailer.Transporter;
  beforeAll(async () => {
    fx = await sandboxFixture();
    mailer = nodemailer.createTransport(fx.sandbox.addresses.smtp.url);
  });
  afterAll(async () => {
    mailer.close();
    await fx.close();
  });

  const message = (to: string, messageId: string) => ({
    from: 'orders@onceflow.local',
    to,
    subject: 'Your order',
    text: 'Thanks!',
    messageId,
  });
  const lookup = async (query: string) => {
    const response = await fetch(`${fx.sandbox.addresses.emailApi.url}/messages?${query}`);
    return ((await response.json()) as { data: { message_id: string; to: string[]; subject: string }[] })
      .data;
  };

  it('stores a message sent with nodemailer, found by Message-ID and by recipient', async () => {
    const to = `ada-${randomUUID().slice(0, 6)}@example.com`;
    const messageId = `<${randomUUID()}@onceflow>`;
    await mailer.sendMail(message(to, messageId));
    const byId = await lookup(`message_id=${encodeURIComponent(messageId)}`);
    expect(byId).toEqual([
      expect.objectContaining({ message_id: messageId, to: [to], subject: 'Your order' }),
    ]);
    expect(await lookup(`to=${encodeURIComponent(to)}`)).toHaveLength(1);
  });

  it('stores a resend with the same Message-ID twice: SMTP really does duplicate', async () => {
    const to = `dup-${randomUUID().slice(0, 6)}@example.com`;
    const messageId = `<${randomUUID()}@onceflow>`;
    await mailer.sendMail(message(to, messageId));
    await mailer.sendMail(message(to, messageId));
    expect((await auditEmail(fx.pool, { to })).recipients).toEqual([
      { to, messages: 2, messageIds: [messageId, messageId] },
    ]);
  });

  it('accepts then drops the connection: stored, but the client never hears 250', async () => {
    const to = `drop-${randomUUID().slice(0, 6)}@example.com`;
    const messageId = `<${randomUUID()}@onceflow>`;
    fx.sandbox.faults.email.set([{ match: { messageId }, fault: 'drop_after_commit' }]);
    await expect(mailer.sendMail(message(to, messageId))).rejects.toThrow();
    expect(await lookup(`message_id=${encodeURIComponent(messageId)}`)).toHaveLength(1);
  });

  it('fails before commit with a 451 and stores nothing', async () => {
    const to = `fail-${randomUUID().slice(0, 6)}@example.com`;
    const messageId = `<${randomUUID()}@onceflow>`;
    fx.sandbox.faults.email.set([{ match: { messageId }, fault: 'fail_before_commit' }]);
    await expect(mailer.sendMail(message(to, messageId))).rejects.toMatchObject({ responseCode: 451 });
    expect(await lookup(`message_id=${encodeURIComponent(messageId)}`)).toHaveLength(0);
  });

  it('answers bad lookups and bad fault settings with 400, unknown routes with 404, wrong methods with 405', async () => {
    const base = fx.sandbox.addresses.emailApi.url;
    expect((await fetch(`${base}/messages`)).status).toBe(400);
    expect((await fetch(`${base}/messages`, { method: 'DELETE' })).status).toBe(405);
    expect((await fetch(`${base}/nothing`)).status).toBe(404);
    const bad = await fetch(`${base}/__admin/faults`, {
      method: 'POST',
      body: '{"rules":[{"fault":"latency"}]}',
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toContain('latency needs latencyMs');
  });
});
