import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { PrerequisiteError } from '../errors.js';
import { SEARCH_ATTRIBUTES } from '../workflows/search-attributes.js';
import { NO_TEMPORAL_HELP, resolveTemporalCli, toExecutable } from './temporal-cli.js';

/** Options of {@link startDevServer}. */
export interface DevServerOptions {
  /** Frontend port; undefined picks a free one. */
  port?: number | undefined;
  /** Web UI port; undefined runs headless. */
  uiPort?: number | undefined;
  /** SQLite file so runs survive a restart; undefined keeps everything in memory. */
  dbFilename?: string | undefined;
  /** Extra `temporal server start-dev` flags (e.g. `--ui-codec-endpoint`). */
  extraArgs?: string[];
  namespace?: string;
}

/**
 * Dynamic config every dev server onceflow starts is given (`npm start`, the test stack, the benches).
 *
 * Why: each history shard's transfer-queue reader (the loop that hands a scheduled workflow or activity
 * task to matching) may poll its queue at most `history.transferProcessorMaxPollRPS` times a second,
 * 20 by default. A dev server has one shard, so once the limiter's burst is spent every dispatch waits
 * for a token: ~40 ms per hop, 450 ms for four no-op activities in sequence (`npm run bench -- dispatch`).
 * At 1000 the same four take ~95 ms. The cost is more frequent reads of the shard's task range, which an
 * in-memory SQLite serves in microseconds. `deploy/temporal-dynamicconfig.yaml` sets the same for
 * docker-compose; the test in `test/deploy/compose.test.ts` keeps the two equal.
 */
export const DEV_SERVER_DYNAMIC_CONFIG: Readonly<Record<string, number>> = {
  'history.transferProcessorMaxPollRPS': 1000,
};

/** `--dynamic-config-value` flags for {@link DEV_SERVER_DYNAMIC_CONFIG}, leaving out keys the caller sets. */
export function devServerConfigArgs(extraArgs: readonly string[] = []): string[] {
  const given = new Set(
    extraArgs.flatMap((arg, i) =>
      extraArgs[i - 1] === '--dynamic-config-value' ? [arg.split('=')[0]!] : [],
    ),
  );
  return Object.entries(DEV_SERVER_DYNAMIC_CONFIG)
    .filter(([key]) => !given.has(key))
    .flatMap(([key, value]) => ['--dynamic-config-value', `${key}=${value}`]);
}

/** A running dev server; `stop()` ends the process. */
export interface DevServer {
  address: string;
  namespace: string;
  uiUrl: string | undefined;
  origin: string;
  stop: () => Promise<void>;
}

/**
 * Starts `temporal server start-dev` on loopback with onceflow's search attributes registered and
 * {@link DEV_SERVER_DYNAMIC_CONFIG} applied (a flag in `extraArgs` for the same key wins). The process is owned by the SDK's core and ends with `stop()`.
 */
export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const source = await resolveTemporalCli();
  if (options.dbFilename) mkdirSync(dirname(options.dbFilename), { recursive: true });
  const namespace = options.namespace ?? 'default';
  let env: TestWorkflowEnvironment;
  try {
    env = await TestWorkflowEnvironment.createLocal({
      server: {
        executable: toExecutable(source),
        ip: '127.0.0.1',
        namespace,
        ...(options.port !== undefined ? { port: options.port } : {}),
        ...(options.uiPort !== undefined ? { ui: true, uiPort: options.uiPort } : { ui: false }),
        ...(options.dbFilename ? { dbFilename: options.dbFilename } : {}),
        searchAttributes: SEARCH_ATTRIBUTES,
        extraArgs: [...devServerConfigArgs(options.extraArgs), ...(options.extraArgs ?? [])],
        log: { format: 'pretty', level: 'error' },
      },
    });
  } catch (err) {
    const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new PrerequisiteError(
      source.kind === 'sdk-download'
        ? `${NO_TEMPORAL_HELP} (${reason})`
        : `Temporal dev server failed to start: ${reason}`,
      { cause: err },
    );
  }
  return {
    address: env.address,
    namespace,
    uiUrl: options.uiPort !== undefined ? `http://localhost:${options.uiPort}` : undefined,
    origin: source.kind === 'path' ? `${source.origin}: ${source.path}` : 'SDK download',
    stop: () => env.teardown(),
  };
}
