import { readFileSync } from 'node:fs';
import type { Config } from './config.js';
import { ConfigError } from './errors.js';

function file(path: string, variable: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError(
      `${variable}=${path} cannot be read: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

/**
 * Connection options for a Temporal cluster from the configuration: the address, mTLS
 * (`TEMPORAL_TLS_CERT`/`TEMPORAL_TLS_KEY`, `TEMPORAL_TLS_CA`) or a Temporal Cloud API key
 * (`TEMPORAL_API_KEY`, which implies TLS). Used by workers, the API and the CLI alike.
 */
export function temporalConnectionOptions(
  config: Config,
  address = config.temporalAddress ?? 'localhost:7233',
) {
  const tls =
    config.temporalTlsCert && config.temporalTlsKey
      ? {
          clientCertPair: {
            crt: file(config.temporalTlsCert, 'TEMPORAL_TLS_CERT'),
            key: file(config.temporalTlsKey, 'TEMPORAL_TLS_KEY'),
          },
          ...(config.temporalTlsCa
            ? { serverRootCACertificate: file(config.temporalTlsCa, 'TEMPORAL_TLS_CA') }
            : {}),
        }
      : config.temporalApiKey || config.temporalTlsCa
        ? config.temporalTlsCa
          ? { serverRootCACertificate: file(config.temporalTlsCa, 'TEMPORAL_TLS_CA') }
          : true
        : undefined;
  return {
    address,
    ...(tls ? { tls } : {}),
    ...(config.temporalApiKey ? { apiKey: config.temporalApiKey } : {}),
  };
}
