import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { spawnWorkerProcess as spawnWorker, type WorkerProcess } from '../../src/dev/worker-process.js';
import type { SandboxAddresses } from '../../src/sandbox/index.js';

/** A real worker process on `taskQueue` against the run's dev server, Postgres and the given sandbox. */
export function spawnWorkerProcess(
  taskQueue: string,
  sandbox: SandboxAddresses,
  extra: { METRICS_PORT?: string; ONCEFLOW_CODEC_KEY?: string } = {},
): WorkerProcess {
  const sandboxFile = join(tmpdir(), `onceflow-sandbox-${taskQueue}.json`);
  writeFileSync(sandboxFile, JSON.stringify(sandbox));
  return spawnWorker({
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_NAMESPACE: inject('namespace'),
    DATABASE_URL: inject('databaseUrl'),
    TASK_QUEUE: taskQueue,
    SANDBOX_FILE: sandboxFile,
    ONCEFLOW_DATA_DIR: join(tmpdir(), `onceflow-worker-${taskQueue}`), // no codec key there: plaintext, like the test client
    ...extra,
  });
}
