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

/** A running dev server; `stop()` ends the process. */
export interface DevServer {
  address: string;
  namespace: string;
  uiUrl: string | undefined;
  origin: string;
  stop: () => Promise<void>;
}

/**
 * Starts `temporal server start-dev` on loopback with onceflow's search attributes registered.
 * The process is owned by the SDK's core and ends with `stop()`.
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
        extraArgs: options.extraArgs ?? [],
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
