import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import type { SandboxAddresses } from '../../src/sandbox/index.js';

/** A real `src/worker.ts` process, for tests that kill a worker mid-activity. */
export interface WorkerProcess {
  child: ChildProcess;
  /** Resolves once the worker logs that it polls. */
  ready: Promise<void>;
  kill: (signal?: NodeJS.Signals) => Promise<void>;
  output: () => string;
}

export function spawnWorkerProcess(taskQueue: string, sandbox: SandboxAddresses): WorkerProcess {
  const sandboxFile = join(tmpdir(), `onceflow-sandbox-${taskQueue}.json`);
  writeFileSync(sandboxFile, JSON.stringify(sandbox));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_NAMESPACE: inject('namespace'),
    DATABASE_URL: inject('databaseUrl'),
    TASK_QUEUE: taskQueue,
    SANDBOX_FILE: sandboxFile,
  };
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/worker.ts'], {
    env,
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
    child.once('exit', (code) => reject(new Error(`worker exited ${code} before polling:\n${out}`)));
  });
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
