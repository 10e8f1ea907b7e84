import { spawn } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { EphemeralServerExecutable } from '@temporalio/testing';
import { PrerequisiteError } from '../errors.js';
import { cacheDir } from './cache-dir.js';

/** The Temporal CLI version built from Go modules when no binary is found. */
export const TEMPORAL_CLI_VERSION = '1.5.1';

/** Where a dev server binary comes from, in the order {@link resolveTemporalCli} tries them. */
export type TemporalCliSource =
  | { kind: 'path'; path: string; origin: 'TEMPORAL_CLI' | 'PATH' | 'cache' | 'go build' }
  | { kind: 'sdk-download'; downloadDir: string };

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && isExecutable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** Path of the cached CLI binary built by {@link buildTemporalCli}. */
export function cachedCliPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheDir(env), 'bin', 'temporal');
}

/**
 * Finds a Temporal CLI without building anything: `TEMPORAL_CLI`, then `temporal` on PATH, then the
 * cache dir. Returns undefined when none is there.
 */
export function findTemporalCli(env: NodeJS.ProcessEnv = process.env): TemporalCliSource | undefined {
  const explicit = env.TEMPORAL_CLI?.trim();
  if (explicit) {
    if (!isExecutable(explicit)) {
      throw new PrerequisiteError(`TEMPORAL_CLI=${explicit} is not an executable file`);
    }
    return { kind: 'path', path: explicit, origin: 'TEMPORAL_CLI' };
  }
  const fromPath = onPath('temporal', env);
  if (fromPath) return { kind: 'path', path: fromPath, origin: 'PATH' };
  const cached = cachedCliPath(env);
  if (isExecutable(cached)) return { kind: 'path', path: cached, origin: 'cache' };
  return undefined;
}

/**
 * Builds the Temporal CLI once into the cache dir with `go install`. Builds into a temporary GOBIN
 * and renames, so a concurrent or interrupted build never leaves a half-written binary behind.
 */
export async function buildTemporalCli(
  env: NodeJS.ProcessEnv = process.env,
  log: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): Promise<string> {
  const go = onPath('go', env);
  if (!go) throw new PrerequisiteError('go is not on PATH');
  const target = cachedCliPath(env);
  mkdirSync(join(cacheDir(env), 'bin'), { recursive: true });
  const tmpBin = mkdtempSync(join(cacheDir(env), 'build-'));
  log(
    `onceflow: building the Temporal CLI v${TEMPORAL_CLI_VERSION} with Go into ${target}.\n` +
      'onceflow: this is a one-time step of a few minutes; later starts reuse the binary.',
  );
  const started = Date.now();
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(
        go,
        [
          'install',
          '-ldflags',
          `-X github.com/temporalio/cli/temporalcli.Version=${TEMPORAL_CLI_VERSION}`,
          `github.com/temporalio/cli/cmd/temporal@v${TEMPORAL_CLI_VERSION}`,
        ],
        { env: { ...env, GOBIN: tmpBin }, stdio: ['ignore', 'inherit', 'inherit'] },
      );
      child.on('error', reject);
      child.on('exit', (code) =>
        code === 0
          ? resolve()
          : reject(new PrerequisiteError(`go install of the Temporal CLI exited ${code}`)),
      );
    });
    renameSync(join(tmpBin, 'temporal'), target);
  } finally {
    rmSync(tmpBin, { recursive: true, force: true });
  }
  log(`onceflow: Temporal CLI built in ${Math.round((Date.now() - started) / 1000)} s.`);
  return target;
}

/**
 * Resolves the dev server binary: an existing one ({@link findTemporalCli}), else a Go build into the
 * cache, else the SDK's own download (needs internet). Callers with `TEMPORAL_ADDRESS` set never call it.
 */
export async function resolveTemporalCli(env: NodeJS.ProcessEnv = process.env): Promise<TemporalCliSource> {
  const found = findTemporalCli(env);
  if (found) return found;
  if (onPath('go', env)) {
    return { kind: 'path', path: await buildTemporalCli(env), origin: 'go build' };
  }
  return { kind: 'sdk-download', downloadDir: join(cacheDir(env), 'sdk-download') };
}

/** The SDK's executable option for a resolved source. */
export function toExecutable(source: TemporalCliSource): EphemeralServerExecutable {
  return source.kind === 'path'
    ? { type: 'existing-path', path: source.path }
    : { type: 'cached-download', downloadDir: source.downloadDir };
}

/** The one line a user sees when no dev server can be had. */
export const NO_TEMPORAL_HELP =
  'No Temporal server available: set TEMPORAL_ADDRESS to an existing server, set TEMPORAL_CLI to a ' +
  '`temporal` binary (or put one on PATH), install Go so onceflow can build it once, or allow the ' +
  "SDK's download of the dev server (needs internet).";
