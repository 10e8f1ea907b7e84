import { join, resolve } from 'node:path';
import type { Config } from '../config.js';
import { PrerequisiteError } from '../errors.js';
import { freePort, isPortFree } from './ports.js';
import { startEmbeddedPostgres } from './postgres.js';
import { startDevServer } from './temporal-server.js';

/** What {@link startStack} brought up (or found configured). */
export interface Stack {
  temporalAddress: string;
  namespace: string;
  databaseUrl: string;
  /** Web UI base URL; undefined when headless. */
  uiUrl: string | undefined;
  /** One line per component saying where it came from. */
  describe: string[];
  /** Stops what this stack started, in reverse order; leaves external services alone. */
  stop: () => Promise<void>;
}

/** Options of {@link startStack}. */
export interface StackOptions {
  /** `persistent`: fixed ports, UI, data kept under the data dir (npm start). `ephemeral`: free ports, in memory (tests). */
  mode: 'persistent' | 'ephemeral';
  config: Config;
  /** Data dir for ephemeral Postgres; default a subdir of the config's data dir. */
  scratchDir?: string;
  log?: (line: string) => void;
  /** Extra `temporal server start-dev` flags, e.g. `--ui-codec-endpoint`. */
  devServerArgs?: string[];
}

async function requireFree(port: number, what: string, variable: string): Promise<void> {
  if (!(await isPortFree(port))) {
    throw new PrerequisiteError(
      `port ${port} for ${what} is in use: stop what holds it or set ${variable} to another port`,
    );
  }
}

/**
 * Brings up Postgres and a Temporal server unless `DATABASE_URL` / `TEMPORAL_ADDRESS` point at existing ones.
 * On failure, whatever was already started is stopped before the error is thrown.
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const { config, mode } = options;
  const log = options.log ?? (() => undefined);
  const stops: (() => Promise<void>)[] = [];
  const describe: string[] = [];
  const stop = async () => {
    for (const fn of stops.reverse()) await fn().catch(() => undefined);
  };
  try {
    let databaseUrl = config.databaseUrl;
    if (databaseUrl) {
      describe.push('Postgres: DATABASE_URL');
    } else {
      const persistent = mode === 'persistent';
      const port = persistent ? config.pgPort : await freePort();
      if (persistent) await requireFree(port, 'embedded Postgres', 'PG_PORT');
      const dataDir = persistent
        ? join(config.dataDir, 'pg')
        : join(options.scratchDir ?? join(config.dataDir, 'tmp'), `pg-${process.pid}-${Date.now()}`);
      log(`starting embedded Postgres on 127.0.0.1:${port} (${resolve(dataDir)})`);
      const pg = await startEmbeddedPostgres({ dataDir, port, fast: !persistent, ephemeral: !persistent });
      stops.push(pg.stop);
      databaseUrl = pg.url;
      describe.push(`Postgres: embedded on 127.0.0.1:${port}`);
    }

    let temporalAddress = config.temporalAddress;
    let uiUrl: string | undefined;
    if (temporalAddress) {
      describe.push(`Temporal: TEMPORAL_ADDRESS ${temporalAddress}`);
      uiUrl = config.temporalUiUrl;
    } else {
      const persistent = mode === 'persistent';
      if (persistent) {
        await requireFree(config.temporalPort, 'the Temporal frontend', 'TEMPORAL_PORT');
        await requireFree(config.temporalUiPort, 'the Temporal Web UI', 'TEMPORAL_UI_PORT');
      }
      log('starting the Temporal dev server');
      const server = await startDevServer({
        namespace: config.namespace,
        extraArgs: options.devServerArgs ?? [],
        ...(persistent
          ? {
              port: config.temporalPort,
              uiPort: config.temporalUiPort,
              dbFilename: resolve(config.dataDir, 'temporal', 'dev.sqlite'),
            }
          : {}),
      });
      stops.push(server.stop);
      temporalAddress = server.address;
      uiUrl = server.uiUrl;
      describe.push(`Temporal: dev server on ${server.address} (${server.origin})`);
    }
    return { temporalAddress, namespace: config.namespace, databaseUrl, uiUrl, describe, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
