import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { ConfigError } from 'onceflow';
import { loadConfig } from '../../../src/config.js';
import { createPool } from '../../../src/db/pool.js';
import { migrate, MIGRATIONS_DIR } from '../../../src/db/migrate.js';
import { loadOrderConfig } from '../../../examples/order-ops/config.js';
import { migrateOrderTables, ORDER_MIGRATIONS_DIR } from '../../../examples/order-ops/db.js';

describe('loadOrderConfig: the order example’s variables', () => {
  it('defaults to the sandboxes and keeps onceflow’s own configuration', () => {
    const config = loadOrderConfig({});
    expect(config).toMatchObject({
      stripeApiKey: undefined,
      stripeApiBase: undefined,
      smtpUrl: undefined,
      emailLookupUrl: undefined,
      mailFrom: 'onceflow <orders@onceflow.local>',
    });
    expect(config).toMatchObject(loadConfig({}));
    expect(loadOrderConfig({ TASK_QUEUE: 'q', MAIL_FROM: '  ' })).toMatchObject({
      taskQueue: 'q',
      mailFrom: 'onceflow <orders@onceflow.local>',
    });
  });

  it('reads every variable, trimmed', () => {
    expect(
      loadOrderConfig({
        STRIPE_API_KEY: ' sk_live_x ',
        STRIPE_API_BASE: 'https://payments.internal:8443',
        SMTP_URL: 'smtps://user:pass@relay:465',
        EMAIL_LOOKUP_URL: 'http://mail.internal/lookup',
        MAIL_FROM: 'Shop <shop@example.com>',
      }),
    ).toMatchObject({
      stripeApiKey: 'sk_live_x',
      stripeApiBase: 'https://payments.internal:8443',
      smtpUrl: 'smtps://user:pass@relay:465',
      emailLookupUrl: 'http://mail.internal/lookup',
      mailFrom: 'Shop <shop@example.com>',
    });
  });

  it.each([
    ['STRIPE_API_BASE', 'not a url', 'STRIPE_API_BASE is not a valid URL'],
    ['STRIPE_API_BASE', 'ftp://x', 'STRIPE_API_BASE must use http: or https:, got ftp:'],
    ['SMTP_URL', 'http://relay:25', 'SMTP_URL must use smtp: or smtps:, got http:'],
    ['SMTP_URL', '::', 'SMTP_URL is not a valid URL'],
    ['EMAIL_LOOKUP_URL', 'smtp://x', 'EMAIL_LOOKUP_URL must use http: or https:, got smtp:'],
  ])('refuses %s=%s with a ConfigError naming it', (name, value, message) => {
    const load = () => loadOrderConfig({ [name]: value });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(message);
  });

  it('still validates onceflow’s variables', () => {
    expect(() => loadOrderConfig({ METRICS_PORT: 'abc' })).toThrow(/METRICS_PORT=abc is invalid/);
  });

  it('is not in the engine’s configuration', () => {
    const engine = loadConfig({ STRIPE_API_BASE: 'http://x', SMTP_URL: 'smtp://x', MAIL_FROM: 'x' });
    for (const key of ['stripeApiKey', 'stripeApiBase', 'smtpUrl', 'emailLookupUrl', 'mailFrom'])
      expect(engine).not.toHaveProperty(key);
  });
});

describe('migrateOrderTables: the order example’s tables, outside the engine', () => {
  const pool = createPool(inject('databaseUrl'), 2);
  afterAll(async () => {
    await pool.query('DROP TABLE IF EXISTS order_ops_migrations_probe');
    await pool.end();
  });

  it('leaves no order table in onceflow’s own migrations', () => {
    const engine = readdirSync(MIGRATIONS_DIR).map((f) => readFileSync(`${MIGRATIONS_DIR}/${f}`, 'utf8'));
    expect(engine.length).toBeGreaterThan(0);
    for (const sql of engine)
      expect(sql).not.toMatch(/CREATE TABLE (IF NOT EXISTS )?(customers|orders|shipments)\b/);
    expect(readdirSync(ORDER_MIGRATIONS_DIR)).toEqual(['001_orders.sql']);
  });

  it('has been applied (global setup) and records itself apart from the engine', async () => {
    expect(await migrate(pool)).toEqual([]);
    expect(await migrateOrderTables(pool)).toEqual([]);
    const recorded = await pool.query<{ name: string }>('SELECT name FROM order_ops_migrations');
    expect(recorded.rows.map((r) => r.name)).toEqual(['001_orders.sql']);
    const tables = await pool.query<{ t: string | null }>(
      "SELECT to_regclass('public.orders')::text AS t UNION ALL SELECT to_regclass('public.shipments')::text UNION ALL SELECT to_regclass('public.customers')::text",
    );
    expect(tables.rows.map((r) => r.t)).toEqual(['orders', 'shipments', 'customers']);
  });

  it('applies cleanly to a database that already holds the tables (created before the move)', async () => {
    // A fresh record table over existing tables: what a database migrated by the engine's old
    // 003_orders.sql sees the first time the example migrates.
    const applied = await migrate(pool, { dir: ORDER_MIGRATIONS_DIR, table: 'order_ops_migrations_probe' });
    expect(applied).toEqual(['001_orders.sql']);
  });
});
