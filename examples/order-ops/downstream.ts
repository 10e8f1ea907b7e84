import type Anthropic from '@anthropic-ai/sdk';
import nodemailer from 'nodemailer';
import { ConfigError } from 'onceflow';
import { createModelClient, describeModelClient, type SandboxEndpoints } from 'onceflow/testing';
import Stripe from 'stripe';
import type { OrderConfig } from './config.js';

/** The real clients activities talk to the outside world with; built once per worker process. */
export interface OrderDownstream {
  stripe: Stripe;
  mailer: nodemailer.Transporter;
  anthropic: Anthropic;
  /** Lookup of delivered messages by Message-ID; undefined with a real relay (verify then escalates). */
  emailLookupUrl: string | undefined;
  mailFrom: string;
  model: string;
  maxTokens: number;
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
  const mailer = nodemailer.createTransport(smtpUrl);
  describe.push(`email: ${smtpUrl.replace(/\/\/[^@]*@/, '//***@')}`);

  const anthropic = createModelClient(config, sandbox?.modelBaseUrl);
  describe.push(describeModelClient(config, sandbox?.modelBaseUrl));

  return {
    stripe,
    mailer,
    anthropic,
    emailLookupUrl: config.emailLookupUrl ?? (config.smtpUrl ? undefined : sandbox?.emailLookupUrl),
    mailFrom: config.mailFrom,
    model: config.anthropicModel,
    maxTokens: config.anthropicMaxTokens,
    describe,
  };
}
