import Stripe from 'stripe';
import { inject } from 'vitest';
import { createPool } from '../../src/db/pool.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';

/** A sandbox on ephemeral ports against the run's Postgres, and an official Stripe client pointed at it. */
export async function sandboxFixture() {
  const pool = createPool(inject('databaseUrl'), 4);
  const sandbox: Sandbox = await startSandbox({ pool });
  const stripe = (maxNetworkRetries = 0) =>
    new Stripe('sk_test_sandbox', {
      host: sandbox.addresses.payments.host,
      port: sandbox.addresses.payments.port,
      protocol: 'http',
      maxNetworkRetries,
      timeout: 5_000,
    });
  return {
    pool,
    sandbox,
    stripe,
    close: async () => {
      await sandbox.stop();
      await pool.end();
    },
  };
}
