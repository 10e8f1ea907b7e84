/**
 * The order example's configuration: onceflow's own ({@link Config}) plus the variables only this
 * example reads — where its payments, email and mail sender are. Parsed and validated once.
 */
import { envString as str, envUrl as url, loadConfig, type Config } from 'onceflow/worker';

/** onceflow's configuration plus the order example's downstreams, parsed by {@link loadOrderConfig}. */
export interface OrderConfig extends Config {
  /** `STRIPE_API_KEY`: with no `STRIPE_API_BASE`, a real key talks to real Stripe. Default: the sandbox's `sk_test_sandbox`. */
  stripeApiKey: string | undefined;
  /** `STRIPE_API_BASE`: a Stripe-compatible API base URL (e.g. the sandbox's). */
  stripeApiBase: string | undefined;
  /** `SMTP_URL`: `smtp://user:pass@host:port` of a real relay. Unset: the sandbox SMTP server. */
  smtpUrl: string | undefined;
  /** `EMAIL_LOOKUP_URL`: HTTP lookup of delivered messages by Message-ID, used by the `verify` recovery. */
  emailLookupUrl: string | undefined;
  /** `MAIL_FROM`, default `onceflow <orders@onceflow.local>`. */
  mailFrom: string;
  /** `SUPPORT_DESK_MCP_URL`: the support desk's MCP endpoint (Streamable HTTP). Unset: the sandbox ticket desk. */
  supportDeskMcpUrl: string | undefined;
  /** `SUPPORT_DESK_MCP_TOKEN`: sent as `Authorization: Bearer …` to that endpoint. */
  supportDeskMcpToken: string | undefined;
}

type Env = Record<string, string | undefined>;

/**
 * Parses and validates onceflow's variables and the example's own once. Throws `ConfigError` naming
 * the variable at fault.
 */
export function loadOrderConfig(env: Env = process.env): OrderConfig {
  return {
    ...loadConfig(env),
    stripeApiKey: str(env, 'STRIPE_API_KEY'),
    stripeApiBase: url(env, 'STRIPE_API_BASE', ['http:', 'https:']),
    smtpUrl: url(env, 'SMTP_URL', ['smtp:', 'smtps:']),
    emailLookupUrl: url(env, 'EMAIL_LOOKUP_URL', ['http:', 'https:']),
    mailFrom: str(env, 'MAIL_FROM') ?? 'onceflow <orders@onceflow.local>',
    supportDeskMcpUrl: url(env, 'SUPPORT_DESK_MCP_URL', ['http:', 'https:']),
    supportDeskMcpToken: str(env, 'SUPPORT_DESK_MCP_TOKEN'),
  };
}
