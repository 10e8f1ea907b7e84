import type Anthropic from '@anthropic-ai/sdk';
import net from 'node:net';
import nodemailer from 'nodemailer';
import SMTPPool from 'nodemailer/lib/smtp-pool/index.js';
import { ConfigError } from 'onceflow';
import { createModelClient, describeModelClient, type SandboxEndpoints } from 'onceflow/testing';
import Stripe from 'stripe';
import type { McpServerSpec } from 'onceflow/worker';
import type { OrderConfig } from './config.js';

/** The real clients activities talk to the outside world with; built once per worker process. */
export interface OrderDownstream {
  stripe: Stripe;
  /** Pooled SMTP connections (see {@link createMailer}); close it with the worker. */
  mailer: nodemailer.Transporter;
  anthropic: Anthropic;
  /** Lookup of delivered messages by Message-ID; undefined with a real relay (verify then escalates). */
  emailLookupUrl: string | undefined;
  mailFrom: string;
  model: string;
  maxTokens: number;
  /** The support desk's MCP server (the `desk` of the support agent); undefined when none is reachable. */
  supportDesk: McpServerSpec | undefined;
  /** Where each client points, for logs. */
  describe: string[];
}

const SANDBOX_STRIPE_KEY = 'sk_test_sandbox';

function stripeClient(apiKey: string, base: string | undefined): Stripe {
  // Temporal owns retries (with their history); the SDK must not retry behind its back.
  const common = { maxNetworkRetries: 0, timeout: 20_000 } as const;
  if (!base) return new Stripe(apiKey, common);
  const url = new URL(base);
  const protocol = url.protocol === 'https:' ? 'https' : 'http';
  return new Stripe(apiKey, {
    ...common,
    host: url.hostname,
    port: Number(url.port || (protocol === 'https' ? 443 : 80)),
    protocol,
  });
}

/**
 * The SMTP transport email activities send through: a pool of up to 5 connections, each reused for up
 * to 100 messages (a new connection per message costs a TCP and SMTP handshake, ~150 ms on a relay).
 * `close()` ends the pool's connections; a message being sent finishes first.
 *
 * Failure semantics: the pool never resends on its own (`maxRequeues: 0`): a connection that closes
 * under a message fails that send, and Temporal's retry goes through the ledger and `verify` instead.
 * A dropped connection is an error without `responseCode` (retryable); a 5xx reply is terminal.
 * No single wait on the relay (connect, greeting, a reply) outlasts an effect attempt's 30 s
 * start-to-close: a hung relay frees its pooled connection and fails the attempt instead of holding
 * the slot for nodemailer's 10-minute default. The same `socketTimeout` closes a connection idle for
 * 20 s; the next message opens a new one.
 */
export function createMailer(smtpUrl: string): nodemailer.Transporter {
  // Not createTransport({ url, ...options }): given a `url`, it drops every other option, `pool` too.
  // The pool itself reads the URL over these defaults, so `?maxConnections=…` in SMTP_URL still wins.
  const options: SMTPPool.Options & { maxRequeues: number } = {
    url: smtpUrl,
    pool: true,
    maxConnections: 5,
    maxMessages: 100,
    maxRequeues: 0,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 20_000,
    getSocket: noDelaySocket,
  };
  return nodemailer.createTransport(new SMTPPool(options));
}

/**
 * Opens the pool's TCP connections with Nagle's algorithm off. nodemailer has no option for it, and
 * with it on every pooled message waits ~40 ms: the client's next small write (the message after DATA)
 * is held until the server's delayed ACK of the previous one. Measured against the sandbox, 50
 * sequential sends: 48 ms → 2.2 ms p50 per message (149 ms with a new connection each). TLS (`smtps://`, STARTTLS) is layered on this socket
 * by nodemailer as before.
 */
function noDelaySocket(
  options: SMTPPool.Options,
  callback: (err: Error | null, socketOptions?: { connection: net.Socket }) => void,
): void {
  const port = options.port ?? (options.secure ? 465 : 587);
  const socket = net.connect({ host: options.host ?? 'localhost', port });
  socket.setNoDelay(true);
  socket.setTimeout(options.connectionTimeout ?? 10_000, () =>
    socket.destroy(
      Object.assign(new Error(`SMTP connection to port ${port} timed out`), { code: 'ETIMEDOUT' }),
    ),
  );
  const failed = (err: Error) => callback(err);
  socket.once('error', failed);
  socket.once('connect', () => {
    socket.setTimeout(0);
    socket.removeListener('error', failed);
    callback(null, { connection: socket });
  });
}

/**
 * Builds the downstream clients from the configuration. Each system independently goes to its real
 * service when configured (`STRIPE_API_KEY` without `STRIPE_API_BASE`, `SMTP_URL`, `ANTHROPIC_API_KEY`
 * without `ANTHROPIC_BASE_URL`) and to the sandbox otherwise.
 */
export function createDownstreamClients(
  config: OrderConfig,
  sandbox: SandboxEndpoints | undefined,
): OrderDownstream {
  const need = (what: string, variable: string): never => {
    throw new ConfigError(`${what}: set ${variable}, or run the sandbox services (npm start does)`);
  };
  const describe: string[] = [];

  const realStripe = config.stripeApiKey !== undefined && config.stripeApiBase === undefined;
  const stripeBase = realStripe ? undefined : (config.stripeApiBase ?? sandbox?.paymentsUrl);
  if (!realStripe && !stripeBase) need('no payments API', 'STRIPE_API_KEY');
  const stripe = stripeClient(config.stripeApiKey ?? SANDBOX_STRIPE_KEY, stripeBase);
  describe.push(`payments: ${stripeBase ?? 'api.stripe.com'}`);

  const smtpUrl = config.smtpUrl ?? sandbox?.smtpUrl ?? need('no SMTP server', 'SMTP_URL');
  const mailer = createMailer(smtpUrl);
  describe.push(`email: ${smtpUrl.replace(/\/\/[^@]*@/, '//***@')}`);

  const anthropic = createModelClient(config, sandbox?.modelBaseUrl);
  describe.push(describeModelClient(config, sandbox?.modelBaseUrl));

  const deskUrl = config.supportDeskMcpUrl ?? sandbox?.mcpUrl;
  const supportDesk: McpServerSpec | undefined = deskUrl
    ? {
        name: 'desk',
        transport: {
          type: 'http',
          url: deskUrl,
          ...(config.supportDeskMcpToken
            ? { headers: { authorization: `Bearer ${config.supportDeskMcpToken}` } }
            : {}),
        },
      }
    : undefined;
  describe.push(`support desk (MCP): ${deskUrl ?? 'none'}`);

  return {
    stripe,
    mailer,
    supportDesk,
    anthropic,
    emailLookupUrl: config.emailLookupUrl ?? (config.smtpUrl ? undefined : sandbox?.emailLookupUrl),
    mailFrom: config.mailFrom,
    model: config.anthropicModel,
    maxTokens: config.anthropicMaxTokens,
    describe,
  };
}
