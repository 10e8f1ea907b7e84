import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { inject } from 'vitest';

const run = promisify(execFile);

/** What a CLI run printed and how it exited. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `onceflow <args>` as a child process against the run's dev server and Postgres, on
 * `taskQueue`, with a clean environment plus `env` (ONCEFLOW_DATA_DIR, ONCEFLOW_CODEC_KEY, …).
 */
export async function runCli(
  taskQueue: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<CliRun> {
  const options = {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_NAMESPACE: inject('namespace'),
      DATABASE_URL: inject('databaseUrl'),
      TASK_QUEUE: taskQueue,
      ...env,
    },
    timeout: 120_000,
  };
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      ['--import', 'tsx', 'src/cli.ts', ...args],
      options,
    );
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
