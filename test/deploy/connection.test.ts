import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { ConfigError } from '../../src/errors.js';
import { temporalConnectionOptions } from '../../src/temporal-connection.js';

describe('connection options for a real cluster', () => {
  const dir = mkdtempSync(join(tmpdir(), 'onceflow-tls-'));
  writeFileSync(join(dir, 'client.pem'), 'CERT');
  writeFileSync(join(dir, 'client.key'), 'KEY');

  it('builds mTLS from TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY', () => {
    const config = loadConfig({
      TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233',
      TEMPORAL_TLS_CERT: join(dir, 'client.pem'),
      TEMPORAL_TLS_KEY: join(dir, 'client.key'),
    });
    const options = temporalConnectionOptions(config);
    expect(options.address).toBe('ns.acct.tmprl.cloud:7233');
    expect(options.tls).toEqual({
      clientCertPair: { crt: Buffer.from('CERT'), key: Buffer.from('KEY') },
    });
  });

  it('uses TLS with a Temporal Cloud API key', () => {
    const options = temporalConnectionOptions(
      loadConfig({ TEMPORAL_ADDRESS: 'x:7233', TEMPORAL_API_KEY: 'k' }),
    );
    expect(options).toMatchObject({ tls: true, apiKey: 'k' });
  });

  it('connects in plaintext by default, and names the variable at fault otherwise', () => {
    expect(temporalConnectionOptions(loadConfig({}))).toEqual({ address: 'localhost:7233' });
    expect(() => loadConfig({ TEMPORAL_TLS_CERT: '/x' })).toThrow(ConfigError);
    expect(() =>
      temporalConnectionOptions(loadConfig({ TEMPORAL_TLS_CERT: '/no/such', TEMPORAL_TLS_KEY: '/no/key' })),
    ).toThrow(/TEMPORAL_TLS_CERT=\/no\/such cannot be read/);
    expect(() => loadConfig({ METRICS_PORT: 'abc' })).toThrow(/METRICS_PORT=abc is invalid/);
  });
});
