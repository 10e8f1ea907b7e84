import type { Config } from '../config.js';
import { createPool } from '../db/pool.js';
import { ConfigError } from '../errors.js';
import { startSandbox } from '../sandbox/index.js';

/**
 * `onceflow sandbox`: the sandbox services alone, on fixed ports (SANDBOX_HOST, default 127.0.0.1;
 * payments 12111, SMTP 2525, mailbox 8025, model 8026, MCP 8027), for a compose topology without real
 * providers.
 */
export async function runSandbox(config: Config): Promise<void> {
  if (!config.databaseUrl) throw new ConfigError('DATABASE_URL is required for standalone sandbox services');
  const pool = createPool(config.databaseUrl, 4, 'onceflow-sandbox');
  const sandbox = await startSandbox({
    pool,
    host: process.env.SANDBOX_HOST ?? '127.0.0.1',
    ports: { payments: 12111, smtp: 2525, email: 8025, model: 8026, mcp: 8027 },
  });
  process.stdout.write(`onceflow sandbox: ${JSON.stringify(sandbox.addresses)}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await sandbox.stop();
  await pool.end();
}
