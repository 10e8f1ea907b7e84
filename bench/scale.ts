/**
 * Does a second worker process add throughput? Order sagas at concurrency 32 against one, then two
 * `src/worker.ts` processes on one task queue (same dev server, Postgres and sandbox).
 * Writes bench/results/scale.json.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { spawnWorkerProcess, type WorkerProcess } from '../src/dev/worker-process.js';
import { writeSandboxAddresses } from '../src/sandbox/index.js';
import { orderWorkflow } from '../examples/order-ops/workflows.js';
import { benchEnv, drive, median, percentiles, writeResult } from './lib/env.js';

const TASKS = Number(process.env.BENCH_SCALE_TASKS ?? 96);
const REPS = Number(process.env.BENCH_REPS ?? 3);

export async function run(): Promise<void> {
  const env = await benchEnv();
  const sandboxFile = join(env.scratch, 'sandbox.json');
  writeSandboxAddresses(sandboxFile, env.sandbox.addresses);
  const results: { workers: number; tasksPerSec: number[]; p50: number[] }[] = [];
  try {
    for (const count of [1, 2]) {
      const taskQueue = `bench-scale-${count}-${randomUUID()}`;
      const workers: WorkerProcess[] = Array.from({ length: count }, () =>
        spawnWorkerProcess({
          TEMPORAL_ADDRESS: env.stack.temporalAddress,
          TEMPORAL_NAMESPACE: env.stack.namespace,
          DATABASE_URL: env.stack.databaseUrl,
          TASK_QUEUE: taskQueue,
          SANDBOX_FILE: sandboxFile,
          ONCEFLOW_DATA_DIR: env.scratch,
        }),
      );
      await Promise.all(workers.map((w) => w.ready));
      const order = (id: string) =>
        env.client.workflow.execute(orderWorkflow, {
          taskQueue,
          workflowId: `scale-${id}`,
          args: [
            {
              orderId: `ord_${id}`,
              customerId: `cust_${id}`,
              email: `s-${id}@example.com`,
              items: [{ sku: 'kit', quantity: 1, unitAmount: 4999 }],
              currency: 'usd',
              shippingAddress: { name: 'S', line1: '1 St', city: 'X', postalCode: '1', country: 'FR' },
            },
          ],
        });
      const row = { workers: count, tasksPerSec: [] as number[], p50: [] as number[] };
      try {
        await drive(8, 4, () => order(randomUUID()));
        for (let rep = 0; rep < REPS; rep++) {
          const r = await drive(TASKS, 32, () => order(randomUUID()));
          row.tasksPerSec.push(TASKS / (r.wallMs / 1000));
          row.p50.push(percentiles(r.latencies).p50);
        }
      } finally {
        await Promise.all(workers.map((w) => w.kill('SIGTERM')));
      }
      results.push(row);
    }
  } finally {
    await env.close();
  }
  console.log('workers  tasks/s median (min–max)  p50 ms median');
  for (const r of results) {
    console.log(
      `${String(r.workers).padStart(7)}  ${median(r.tasksPerSec).toFixed(1)} (${Math.min(...r.tasksPerSec).toFixed(1)}–${Math.max(...r.tasksPerSec).toFixed(1)})`.padEnd(
        35,
      ) + median(r.p50).toFixed(0),
    );
  }
  const ratio = median(results[1]!.tasksPerSec) / median(results[0]!.tasksPerSec);
  console.log(`two workers / one worker: ${ratio.toFixed(2)}x`);
  writeResult('scale', {
    twoOverOne: Math.round(ratio * 100) / 100,
    rows: results.map((r) => ({
      workers: r.workers,
      tasksPerSecMedian: median(r.tasksPerSec),
      min: Math.min(...r.tasksPerSec),
      max: Math.max(...r.tasksPerSec),
      p50Ms: median(r.p50),
      p50MinMs: Math.min(...r.p50),
      p50MaxMs: Math.max(...r.p50),
    })),
  });
}
