/**
 * What exactly-once costs end to end: order sagas through onceflow (ledger, keys, saga, search
 * attributes, heartbeats) against a bare workflow making the same four downstream calls with none of
 * that, on the same dev server, Postgres and sandbox, interleaved in one run. Writes bench/results/e2e.json.
 * Targets (goals): throughputRatio (onceflow/bare at concurrency 32) >= 0.85, p50LatencyRatio (at 1) <= 1.15.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Worker } from '@temporalio/worker';
import { createOrderWorker } from '../examples/order-ops/worker.js';
import { orderWorkflow } from '../examples/order-ops/workflows.js';
import { createBareActivities } from './bare/activities.js';
import { bareOrderWorkflow } from './bare/workflows.js';
import { benchEnv, drive, median, percentiles, writeResult } from './lib/env.js';

const LEVELS = [
  { concurrency: 1, tasks: Number(process.env.BENCH_E2E_C1 ?? 12) },
  { concurrency: 8, tasks: Number(process.env.BENCH_E2E_C8 ?? 48) },
  { concurrency: 32, tasks: Number(process.env.BENCH_E2E_C32 ?? 128) },
];
const REPS = Number(process.env.BENCH_REPS ?? 3);

export async function run(): Promise<void> {
  const env = await benchEnv();
  await env.pool
    .query(`CREATE TABLE IF NOT EXISTS bench_bare_orders (order_id text PRIMARY KEY, customer_id text, amount int);
                        CREATE TABLE IF NOT EXISTS bench_bare_shipments (shipment_id text PRIMARY KEY, order_id text)`);
  const onceflowWorker = await createOrderWorker({
    connection: env.native,
    namespace: env.stack.namespace,
    taskQueue: 'bench-onceflow',
    deps: env.deps,
    overrides: { maxConcurrentActivityTaskExecutions: 200 },
  });
  const bareWorker = await Worker.create({
    connection: env.native,
    namespace: env.stack.namespace,
    taskQueue: 'bench-bare',
    workflowsPath: fileURLToPath(new URL('./bare/workflows.ts', import.meta.url)),
    activities: createBareActivities(env.pool, env.deps.downstream.stripe, env.deps.downstream.mailer),
    maxConcurrentActivityTaskExecutions: 200,
  });
  const running = [onceflowWorker.run(), bareWorker.run()];
  const systems = {
    bare: (id: string) =>
      env.client.workflow.execute(bareOrderWorkflow, {
        taskQueue: 'bench-bare',
        workflowId: `bare-${id}`,
        args: [
          { orderId: `ord_${id}`, customerId: `cust_${id}`, email: `b-${id}@example.com`, amount: 4999 },
        ],
      }),
    onceflow: (id: string) =>
      env.client.workflow.execute(orderWorkflow, {
        taskQueue: 'bench-onceflow',
        workflowId: `once-${id}`,
        args: [
          {
            orderId: `ord_${id}`,
            customerId: `cust_${id}`,
            email: `o-${id}@example.com`,
            items: [{ sku: 'kit', quantity: 1, unitAmount: 4999 }],
            currency: 'usd',
            shippingAddress: { name: 'B', line1: '1 St', city: 'X', postalCode: '1', country: 'FR' },
          },
        ],
      }),
  };
  type Row = { system: string; concurrency: number; throughput: number[]; p50: number[]; p99: number[] };
  const rows: Row[] = [];
  try {
    await drive(8, 4, (i) => systems.bare(`warm-${i}-${randomUUID()}`));
    await drive(8, 4, (i) => systems.onceflow(`warm-${i}-${randomUUID()}`));
    for (const level of LEVELS) {
      const byName: Record<string, Row> = {};
      for (let rep = 0; rep < REPS; rep++) {
        // Alternate which system goes first so drift on a shared machine hits both alike.
        const order = rep % 2 === 0 ? (['bare', 'onceflow'] as const) : (['onceflow', 'bare'] as const);
        for (const name of order) {
          const r = await drive(level.tasks, level.concurrency, () => systems[name](randomUUID()));
          const row = (byName[name] ??= {
            system: name,
            concurrency: level.concurrency,
            throughput: [],
            p50: [],
            p99: [],
          });
          const p = percentiles(r.latencies);
          row.throughput.push(level.tasks / (r.wallMs / 1000));
          row.p50.push(p.p50);
          row.p99.push(p.p99);
        }
      }
      rows.push(byName.bare!, byName.onceflow!);
    }
  } finally {
    onceflowWorker.shutdown();
    bareWorker.shutdown();
    await Promise.all(running);
    await env.close();
  }
  const fmt = (xs: number[]) =>
    `${median(xs).toFixed(1)} (${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)})`;
  console.log('system    conc  tasks/s median (min–max)   p50 ms median (min–max)   p99 ms median (min–max)');
  for (const r of rows) {
    console.log(
      `${r.system.padEnd(9)} ${String(r.concurrency).padStart(4)}  ${fmt(r.throughput).padEnd(25)} ${fmt(r.p50).padEnd(25)} ${fmt(r.p99)}`,
    );
  }
  const get = (system: string, c: number) => rows.find((r) => r.system === system && r.concurrency === c)!;
  const throughputRatio = median(get('onceflow', 32).throughput) / median(get('bare', 32).throughput);
  const p50LatencyRatio = median(get('onceflow', 1).p50) / median(get('bare', 1).p50);
  console.log(`throughputRatio (onceflow/bare at 32) ${throughputRatio.toFixed(2)} (target >= 0.85)`);
  console.log(`p50LatencyRatio (onceflow/bare at 1)  ${p50LatencyRatio.toFixed(2)} (target <= 1.15)`);
  writeResult('e2e', {
    throughputRatio: Math.round(throughputRatio * 100) / 100,
    p50LatencyRatio: Math.round(p50LatencyRatio * 100) / 100,
    reps: REPS,
    levels: rows.map((r) => ({
      system: r.system,
      concurrency: r.concurrency,
      tasksPerSec: {
        median: median(r.throughput),
        min: Math.min(...r.throughput),
        max: Math.max(...r.throughput),
      },
      p50Ms: { median: median(r.p50), min: Math.min(...r.p50), max: Math.max(...r.p50) },
      p99Ms: { median: median(r.p99), min: Math.min(...r.p99), max: Math.max(...r.p99) },
    })),
  });
}
