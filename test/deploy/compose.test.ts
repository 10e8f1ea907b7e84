import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { loadOrderConfig } from '../../examples/order-ops/config.js';
import { createDownstreamClients } from '../../examples/order-ops/downstream.js';

interface Service {
  environment?: Record<string, string>;
  command?: string[];
  ports?: string[];
}

const compose = parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
};

/** Every variable a config parser reads, from its source, so these lists cannot drift from the code. */
const variablesIn = (file: string) =>
  [...readFileSync(file, 'utf8').matchAll(/\b(?:int|str|address|url)\(env, '([A-Z_]+)'/g)].map((m) => m[1]!);
/** onceflow's own (`loadConfig`). */
const configVariables = variablesIn('src/config.ts');
/** The order example's (`loadOrderConfig`), which the image's worker runs. */
const orderVariables = variablesIn('examples/order-ops/config.ts');

/** Variables that only matter to the embedded default (`npm start` on one machine). */
const EMBEDDED_ONLY = [
  'TEMPORAL_CLI',
  'TEMPORAL_PORT',
  'TEMPORAL_UI_PORT',
  'PG_PORT',
  'ONCEFLOW_DATA_DIR',
  'SANDBOX_FILE',
];

/** Resolves `${VAR:-default}` the way compose does with an empty host environment. */
function resolved(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).map(([k, v]) => [k, String(v).replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1')]),
  );
}

describe('docker-compose.yml stays true to the code', () => {
  it('reads the configuration variables from src/config.ts and the order example', () => {
    expect(configVariables).toEqual(
      expect.arrayContaining(['TEMPORAL_ADDRESS', 'DATABASE_URL', 'API_TOKEN']),
    );
    expect(orderVariables).toEqual(expect.arrayContaining(['STRIPE_API_BASE', 'SMTP_URL', 'MAIL_FROM']));
    // The engine holds no word of the order domain.
    expect(configVariables.filter((v) => orderVariables.includes(v))).toEqual([]);
  });

  it.each(['worker', 'api'])('sets every variable the %s needs, and its configuration parses', (name) => {
    const env = compose.services[name]?.environment ?? {};
    const needed = name === 'worker' ? [...configVariables, ...orderVariables] : configVariables;
    const missing = needed.filter((v) => !(v in env) && !EMBEDDED_ONLY.includes(v));
    expect(missing).toEqual([]);
    expect(loadConfig(resolved(env)).databaseUrl).toMatch(/^postgres:\/\/onceflow:/);
    const config = loadOrderConfig(resolved(env));
    expect(config.temporalAddress).toBe('temporal:7233');
    expect(config.databaseUrl).toMatch(/^postgres:\/\/onceflow:/);
    // With no sandbox file, the compose env alone must name every downstream.
    const clients = createDownstreamClients(config, undefined);
    expect(clients.describe.join(' ')).toContain('sandbox:12111');
    clients.mailer.close();
  });

  it('runs two workers and publishes only the API and the UI', () => {
    const worker = compose.services.worker as Service & { deploy?: { replicas?: number } };
    expect(worker.deploy?.replicas).toBe(2);
    const published = Object.entries(compose.services)
      .filter(([, s]) => s.ports?.length)
      .map(([n]) => n)
      .sort();
    expect(published).toEqual(['api', 'temporal-ui']);
  });

  it('registers every search attribute the workflows use', async () => {
    const { SEARCH_ATTRIBUTES } = await import('../../src/workflows/search-attributes.js');
    const setup = JSON.stringify(compose.services['temporal-setup']);
    for (const key of SEARCH_ATTRIBUTES) expect(setup).toContain(key.name);
  });

  it("gives the Temporal server the dev server's dynamic config, from a file that exists", async () => {
    const { DEV_SERVER_DYNAMIC_CONFIG } = await import('../../src/dev/temporal-server.js');
    const temporal = compose.services.temporal as Service & { volumes?: string[] };
    const mount = temporal.volumes?.find((v) => v.includes('dynamicconfig'));
    const [source, target] = mount?.split(':') ?? [];
    expect(target).toBe(`/etc/temporal/${temporal.environment?.DYNAMIC_CONFIG_FILE_PATH}`);
    const file = parse(readFileSync(source!, 'utf8')) as Record<string, { value: unknown }[]>;
    const values = Object.fromEntries(Object.entries(file).map(([k, v]) => [k, v[0]?.value]));
    expect(values).toEqual(DEV_SERVER_DYNAMIC_CONFIG);
  });

  it('validates with docker-compose config (installed by .ci/run)', () => {
    let available = true;
    try {
      execFileSync('docker-compose', ['version'], { stdio: 'ignore' });
    } catch {
      available = false;
    }
    if (!available) {
      // A machine without the validator: CI installs it, so there its absence is a failure.
      expect(
        process.env.CI,
        'docker-compose is missing; .ci/run installs it (apt-get install docker-compose)',
      ).not.toBe('true');
      return;
    }
    expect(() =>
      execFileSync('docker-compose', ['-f', 'docker-compose.yml', 'config', '-q'], { stdio: 'pipe' }),
    ).not.toThrow();
  });
});
