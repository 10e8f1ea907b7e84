import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type pg from 'pg';
import { startEmailApi, startSmtpServer } from './email.js';
import { FaultController } from './faults.js';
import { startMcpServer } from './mcp.js';
import { startModelServer } from './model.js';
import { startPaymentsServer } from './payments.js';
import { migrateSandbox } from './schema.js';

export { auditEmail, auditPayments, type EmailAudit, type PaymentsAudit } from './audit.js';
export { FaultController, type FaultKind, type FaultRule } from './faults.js';
export { INTENT_KEY_META, REPLAYED_META, type ToolVariant } from './mcp-tools.js';
export { migrateSandbox } from './schema.js';

/** Options of {@link startSandbox}. */
export interface SandboxOptions {
  pool: pg.Pool;
  /** Default 127.0.0.1. */
  host?: string;
  /** Fixed ports; 0 or absent = ephemeral. */
  ports?: { payments?: number; smtp?: number; email?: number; model?: number; mcp?: number };
  /** Seed of the fault PRNGs (probabilistic rules); default 1. */
  seed?: number;
  /** Directory of model scenarios; default `src/sandbox/scenarios`. */
  scenariosDir?: string;
}

/** Where each sandbox service listens. */
export interface SandboxAddresses {
  payments: { host: string; port: number; protocol: 'http'; url: string };
  smtp: { host: string; port: number; url: string };
  emailApi: { url: string };
  model: { baseURL: string };
  /** The MCP ticket desk's Streamable HTTP endpoint, `http://host:port/mcp`. */
  mcp: { url: string };
}

/** The running sandbox: addresses, per-service fault control, and `stop()` (frees every port). */
export interface Sandbox {
  addresses: SandboxAddresses;
  faults: {
    payments: FaultController;
    email: FaultController;
    model: FaultController;
    mcp: FaultController;
  };
  stop: () => Promise<void>;
}

/**
 * Starts the local stand-ins for the outside world on loopback: a Stripe-compatible payments API, an
 * SMTP server with an HTTP mailbox lookup, a scripted Anthropic Messages API and an MCP ticket desk
 * (Streamable HTTP). State lives in the
 * `sandbox` schema of the given Postgres (migrated here).
 */
export async function startSandbox(options: SandboxOptions): Promise<Sandbox> {
  const host = options.host ?? '127.0.0.1';
  const seed = options.seed ?? 1;
  await migrateSandbox(options.pool);
  const faults = {
    payments: new FaultController(seed),
    email: new FaultController(seed + 1),
    model: new FaultController(seed + 2),
    mcp: new FaultController(seed + 3),
  };
  const closers: (() => Promise<void>)[] = [];
  try {
    const payments = await startPaymentsServer(options.pool, {
      host,
      port: options.ports?.payments ?? 0,
      faults: faults.payments,
    });
    closers.push(payments.close);
    const smtp = await startSmtpServer(options.pool, {
      host,
      port: options.ports?.smtp ?? 0,
      faults: faults.email,
    });
    closers.push(smtp.close);
    const emailApi = await startEmailApi(options.pool, {
      host,
      port: options.ports?.email ?? 0,
      faults: faults.email,
      smtpStats: smtp.stats,
    });
    closers.push(emailApi.close);
    const model = await startModelServer({
      host,
      port: options.ports?.model ?? 0,
      faults: faults.model,
      ...(options.scenariosDir ? { scenariosDir: options.scenariosDir } : {}),
    });
    closers.push(model.close);
    const mcp = await startMcpServer({
      pool: options.pool,
      host,
      port: options.ports?.mcp ?? 0,
      faults: faults.mcp,
    });
    closers.push(mcp.close);
    return {
      addresses: {
        payments: { host, port: payments.port, protocol: 'http', url: `http://${host}:${payments.port}` },
        smtp: { host, port: smtp.port, url: `smtp://${host}:${smtp.port}` },
        emailApi: { url: `http://${host}:${emailApi.port}` },
        model: { baseURL: `http://${host}:${model.port}` },
        mcp: { url: mcp.url },
      },
      faults,
      stop: async () => {
        for (const close of closers.reverse()) await close().catch(() => undefined);
      },
    };
  } catch (err) {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    throw err;
  }
}

/** Writes the addresses where a standalone worker reads them (`SANDBOX_FILE`). */
export function writeSandboxAddresses(file: string, addresses: SandboxAddresses): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(addresses, null, 2)}\n`);
}

export function readSandboxAddresses(file: string): SandboxAddresses {
  return JSON.parse(readFileSync(file, 'utf8')) as SandboxAddresses;
}

/** The sandbox addresses an example's downstream clients need, when the sandboxes run. */
export interface SandboxEndpoints {
  paymentsUrl: string;
  smtpUrl: string;
  emailLookupUrl: string;
  modelBaseUrl: string;
  /** The MCP ticket desk's endpoint; absent in files written before it existed. */
  mcpUrl?: string;
}

/** The endpoints of running sandboxes. */
export function sandboxEndpoints(a: SandboxAddresses): SandboxEndpoints {
  return {
    paymentsUrl: a.payments.url,
    smtpUrl: a.smtp.url,
    emailLookupUrl: a.emailApi.url,
    modelBaseUrl: a.model.baseURL,
    ...(a.mcp ? { mcpUrl: a.mcp.url } : {}),
  };
}

/** Reads the sandbox addresses `npm start` wrote, if any; undefined when the file is absent. */
export function readSandboxEndpoints(file: string): SandboxEndpoints | undefined {
  return existsSync(file) ? sandboxEndpoints(readSandboxAddresses(file)) : undefined;
}
