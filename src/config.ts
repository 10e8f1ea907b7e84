import { ConfigError } from './errors.js';

/** onceflow's configuration, parsed once from the environment by {@link loadConfig}. */
export interface Config {
  /** `TEMPORAL_ADDRESS`: an existing Temporal frontend (`host:port`). Unset: the embedded dev server. */
  temporalAddress: string | undefined;
  /** `TEMPORAL_NAMESPACE`, default `default`. */
  namespace: string;
  /** `TASK_QUEUE`, default `onceflow`. */
  taskQueue: string;
  /** `TEMPORAL_CLI`: path to a `temporal` binary to run the dev server with. */
  temporalCli: string | undefined;
  /** `TEMPORAL_UI_PORT`, default 8233: the Web UI port of the embedded dev server. */
  temporalUiPort: number;
  /** `TEMPORAL_PORT`, default 7233: the frontend port of the embedded dev server. */
  temporalPort: number;
  /** `TEMPORAL_UI_URL`: base URL of the Web UI used in printed links. Default `http://localhost:<ui port>`. */
  temporalUiUrl: string;
  /** `DATABASE_URL`: the Postgres holding the ledger and our tables. Unset: embedded Postgres. */
  databaseUrl: string | undefined;
  /** `PG_POOL_SIZE`, default 10: connections per process. */
  pgPoolSize: number;
  /** `ONCEFLOW_DATA_DIR`, default `.data` in the working directory: embedded Postgres and Temporal state. */
  dataDir: string;
  /** `PG_PORT`, default 5433: the embedded Postgres port. */
  pgPort: number;
  /** `ANTHROPIC_API_KEY`: with no `ANTHROPIC_BASE_URL`, calls the real Anthropic API. */
  anthropicApiKey: string | undefined;
  /** `ANTHROPIC_BASE_URL`: an Anthropic-compatible Messages API (e.g. the scripted sandbox). */
  anthropicBaseUrl: string | undefined;
  /** `ANTHROPIC_MODEL`, default `claude-sonnet-4-6`. */
  anthropicModel: string;
  /** `ANTHROPIC_MAX_TOKENS`, default 1024. */
  anthropicMaxTokens: number;
  /** `TEMPORAL_TLS_CERT` / `TEMPORAL_TLS_KEY`: client certificate and key files (mTLS, e.g. Temporal Cloud). */
  temporalTlsCert: string | undefined;
  temporalTlsKey: string | undefined;
  /** `TEMPORAL_TLS_CA`: the server's root CA file, when the OS does not trust it. */
  temporalTlsCa: string | undefined;
  /** `TEMPORAL_API_KEY`: Temporal Cloud API key (implies TLS). */
  temporalApiKey: string | undefined;
  /** `WORKER_MAX_CONCURRENT_ACTIVITIES`: activity slots per worker process. Unset: the SDK's default. */
  workerMaxConcurrentActivities: number | undefined;
  /** `WORKER_MAX_CACHED_WORKFLOWS`: sticky workflow cache size per worker. Unset: the SDK's default. */
  workerMaxCachedWorkflows: number | undefined;
  /** `METRICS_PORT`: serve Prometheus metrics (SDK runtime + onceflow counters) on this port. Unset: none. */
  metricsPort: number | undefined;
  /** `API_PORT`, default 8787: the backend HTTP API of `npm start` (loopback). */
  apiPort: number;
  /** `API_TOKEN`: when set, the API requires `Authorization: Bearer <token>` on every route but /health. */
  apiToken: string | undefined;
  /** `LEDGER_RETENTION_DAYS`, default 30: how long ledger rows (and so duplicate protection) last. */
  ledgerRetentionDays: number;
  /** `TASK_MAX_DAYS`, default 7: the longest a task may live; the retention must exceed it. */
  taskMaxDays: number;
  /** `SANDBOX_FILE`, default `<data dir>/sandbox.json`: where `npm start` writes the sandbox addresses for workers. */
  sandboxFile: string;
}

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, fallback: number, min = 1, max = 65535): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name}=${raw} is invalid: expected an integer between ${min} and ${max}`);
  }
  return value;
}

/** A variable's trimmed value; unset or blank is `undefined`. For your worker's own variables. */
export function envString(env: Env, name: string): string | undefined {
  return str(env, name);
}

/**
 * A variable that must be a URL with one of `protocols` (`['http:', 'https:']`); unset is `undefined`.
 * Throws {@link ConfigError} naming the variable, as onceflow's own do.
 */
export function envUrl(env: Env, name: string, protocols: string[]): string | undefined {
  return url(env, name, protocols);
}

function str(env: Env, name: string): string | undefined {
  const raw = env[name]?.trim();
  return raw === undefined || raw === '' ? undefined : raw;
}

function address(env: Env, name: string): string | undefined {
  const raw = str(env, name);
  if (raw !== undefined && !/^[^\s:/]+:\d{1,5}$/.test(raw)) {
    throw new ConfigError(`${name}=${raw} is invalid: expected host:port, e.g. localhost:7233`);
  }
  return raw;
}

function url(env: Env, name: string, protocols: string[]): string | undefined {
  const raw = str(env, name);
  if (raw === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(`${name} is not a valid URL`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(`${name} must use ${protocols.join(' or ')}, got ${parsed.protocol}`);
  }
  return raw;
}

/**
 * Parses and validates the environment once. Throws {@link ConfigError} naming the variable at fault.
 */
export function loadConfig(env: Env = process.env): Config {
  const temporalUiPort = int(env, 'TEMPORAL_UI_PORT', 8233);
  if (Boolean(str(env, 'TEMPORAL_TLS_CERT')) !== Boolean(str(env, 'TEMPORAL_TLS_KEY'))) {
    throw new ConfigError('TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY must be set together');
  }
  return {
    temporalAddress: address(env, 'TEMPORAL_ADDRESS'),
    namespace: str(env, 'TEMPORAL_NAMESPACE') ?? 'default',
    taskQueue: str(env, 'TASK_QUEUE') ?? 'onceflow',
    temporalCli: str(env, 'TEMPORAL_CLI'),
    temporalUiPort,
    temporalPort: int(env, 'TEMPORAL_PORT', 7233),
    temporalUiUrl: url(env, 'TEMPORAL_UI_URL', ['http:', 'https:']) ?? `http://localhost:${temporalUiPort}`,
    databaseUrl: url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
    pgPoolSize: int(env, 'PG_POOL_SIZE', 10, 1, 1000),
    dataDir: str(env, 'ONCEFLOW_DATA_DIR') ?? '.data',
    pgPort: int(env, 'PG_PORT', 5433),
    anthropicApiKey: str(env, 'ANTHROPIC_API_KEY'),
    anthropicBaseUrl: url(env, 'ANTHROPIC_BASE_URL', ['http:', 'https:']),
    anthropicModel: str(env, 'ANTHROPIC_MODEL') ?? 'claude-sonnet-4-6',
    anthropicMaxTokens: int(env, 'ANTHROPIC_MAX_TOKENS', 1024, 1, 64_000),
    temporalTlsCert: str(env, 'TEMPORAL_TLS_CERT'),
    temporalTlsKey: str(env, 'TEMPORAL_TLS_KEY'),
    temporalTlsCa: str(env, 'TEMPORAL_TLS_CA'),
    temporalApiKey: str(env, 'TEMPORAL_API_KEY'),
    workerMaxConcurrentActivities:
      str(env, 'WORKER_MAX_CONCURRENT_ACTIVITIES') === undefined
        ? undefined
        : int(env, 'WORKER_MAX_CONCURRENT_ACTIVITIES', 0, 1, 100_000),
    workerMaxCachedWorkflows:
      str(env, 'WORKER_MAX_CACHED_WORKFLOWS') === undefined
        ? undefined
        : int(env, 'WORKER_MAX_CACHED_WORKFLOWS', 0, 0, 1_000_000),
    metricsPort: str(env, 'METRICS_PORT') === undefined ? undefined : int(env, 'METRICS_PORT', 0),
    apiPort: int(env, 'API_PORT', 8787),
    apiToken: str(env, 'API_TOKEN'),
    ledgerRetentionDays: int(env, 'LEDGER_RETENTION_DAYS', 30, 1, 3650),
    taskMaxDays: int(env, 'TASK_MAX_DAYS', 7, 1, 3650),
    sandboxFile: str(env, 'SANDBOX_FILE') ?? `${str(env, 'ONCEFLOW_DATA_DIR') ?? '.data'}/sandbox.json`,
  };
}
