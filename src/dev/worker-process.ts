import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The worker a process runs when none is named: this repository's order example. */
export const DEFAULT_WORKER_ENTRY = fileURLToPath(
  new URL('../../examples/order-ops/worker.ts', import.meta.url),
);
// tsx reads `paths` (the `onceflow/...` specifiers) from this tsconfig, whatever the cwd.
const TSCONFIG = fileURLToPath(new URL('../../tsconfig.json', import.meta.url));

/** A real worker process (tsx), for tests and chaos runs that kill workers. */
export interface WorkerProcess {
  child: ChildProcess;
  /** Resolves once the worker logs that it polls; rejects if it exits first. */
  ready: Promise<void>;
  kill: (signal?: NodeJS.Signals) => Promise<void>;
  output: () => string;
}

/** What a worker process needs: where Temporal and Postgres are, its task queue, the sandbox file. */
export interface WorkerProcessEnv {
  TEMPORAL_ADDRESS: string;
  TEMPORAL_NAMESPACE: string;
  DATABASE_URL: string;
  TASK_QUEUE: string;
  SANDBOX_FILE: string;
  PG_POOL_SIZE?: string;
  /** Where the worker looks for the embedded default's codec key; point it elsewhere to run unencrypted. */
  ONCEFLOW_DATA_DIR?: string;
  /** Payload codec keys (`id:base64,…`); absent: the data dir's key file, if any. */
  ONCEFLOW_CODEC_KEY?: string;
  /** Serve Prometheus metrics on this port. */
  METRICS_PORT?: string;
  /** Sticky cache size; `0` evicts every workflow after each task. */
  WORKER_MAX_CACHED_WORKFLOWS?: string;
}

export function spawnWorkerProcess(env: WorkerProcessEnv, entry = DEFAULT_WORKER_ENTRY): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, TSX_TSCONFIG_PATH: TSCONFIG, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('onceflow worker: polling')) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code, signal) =>
      reject(new Error(`worker exited (${code ?? signal}) before polling:\n${out}`)),
    );
  });
  ready.catch(() => undefined);
  return {
    child,
    ready,
    output: () => out,
    kill: (signal = 'SIGKILL') =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill(signal);
      }),
  };
}
