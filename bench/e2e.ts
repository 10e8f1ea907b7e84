/**
 * What onceflow's order saga costs and saves end to end, against two bare workflows making the same
 * four downstream calls with no keys, no ledger and no saga: `bareRegular` (regular activities, what a
 * Temporal user writes) and `bareLocal` (the same calls as local activities). All three run on the
 * same dev server, Postgres and sandbox, interleaved per level and repetition (the first system
 * rotates). The same-kind baseline is the bare workflow whose activity kind the saga's effects use,
 * read from the history of a warm-up run (local activity markers or activity tasks), not assumed.
 *
 * Targets (issue #16): vs the same kind, throughputRatio (at 32) >= 0.85 and p50LatencyRatio (at 1)
 * <= 1.15, what exactly-once itself costs; vs bareRegular, throughput at 32 >= 1.5x and p50 at 1
 * <= 0.5x. Writes bench/results/e2e.json.
 *
 * Env: BENCH_REPS (default 3) repetitions; BENCH_E2E_C1 / _C8 / _C32 (default 12 / 48 / 128) sagas
 * per repetition at concurrency 1, 8 and 32. BENCH_E2E_EXECUTION=local|regular runs the saga's steps
 * that way instead of onceflow's default, and writes bench/results/e2e-<execution>.json.
 */
import { randomUUID } from 'node:crypto';
import type { Execution } from 'onceflow/workflow';
import { fileURLToPath } from 'node:url';
import { Worker } from '@temporalio/worker';
import { bookShipment, chargePayment, createOrder, sendEmail } from '../examples/order-ops/tools.js';
import { createOrderWorker } from '../examples/order-ops/worker.js';
import { orderWorkflow } from '../examples/order-ops/workflows.js';
import { createBareActivities } from './bare/activities.js';
import { bareLocalOrderWorkflow, bareOrderWorkflow } from './bare/workflows.js';
import { activityCalls, benchEnv, drive, median, percentiles, writeResult } from './lib/env.js';

const LEVELS = [
  { concurrency: 1, tasks: Number(process.env.BENCH_E2E_C1 ?? 12) },
  { concurrency: 8, tasks: Number(process.env.BENCH_E2E_C8 ?? 48) },
  { concurrency: 32, tasks: Number(process.env.BENCH_E2E_C32 ?? 128) },
];
const EXECUTION = parseExecution(process.env.BENCH_E2E_EXECUTION);

function parseExecution(value: string | undefined): Execution | undefined {
  if (value === undefined || value === '') return undefined;
  if (value === 'local' || value === 'regular') return value;
  throw new Error(`BENCH_E2E_EXECUTION: expected local or regular, got "${value}"`);
}

const REPS = Number(process.env.BENCH_REPS ?? 3);
const SYSTEMS = ['bareRegular', 'bareLocal', 'onceflow'] as const;
type System = (typeof SYSTEMS)[number];
const EFFECTS = new Set([createOrder, chargePayment, bookShipment, sendEmail].map((t) => t.activity));

/** Issue #16's goals, printed and stored beside the ratios. */
const E2E_TARGETS = {
  sameKind: { throughputRatio: { min: 0.85 }, p50LatencyRatio: { max: 1.15 } },
  vsRegularBare: { throughputRatio: { min: 1.5 }, p50LatencyRatio: { max: 0.5 } },
} as const;

const mark = (ok: boolean) => (ok ? 'met' : 'missed');
const round2 = (x: number) => Math.round(x * 100) / 100;

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
  // One worker serves both bare workflows: they never run at the same time.
  const bareWorker = await Worker.create({
    connection: env.native,
    namespace: env.stack.namespace,
    taskQueue: 'bench-bare',
    workflowsPath: fileURLToPath(new URL('./bare/workflows.ts', import.meta.url)),
    activities: createBareActivities(env.pool, env.deps.downstream.stripe, env.deps.downstream.mailer),
    maxConcurrentActivityTaskExecutions: 200,
  });
  const running = [onceflowWorker.run(), bareWorker.run()];
  const bareInput = (id: string, prefix: string) => ({
    orderId: `ord_${id}`,
    customerId: `cust_${id}`,
    email: `${prefix}-${id}@example.com`,
    amount: 4999,
  });
  const systems: Record<System, (id: string) => Promise<unknown>> = {
    bareRegular: (id) =>
      env.client.workflow.execute(bareOrderWorkflow, {
        taskQueue: 'bench-bare',
        workflowId: `bare-${id}`,
        args: [bareInput(id, 'b')],
      }),
    bareLocal: (id) =>
      env.client.workflow.execute(bareLocalOrderWorkflow, {
        taskQueue: 'bench-bare',
        workflowId: `bare-local-${id}`,
        args: [bareInput(id, 'l')],
      }),
    onceflow: (id) =>
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
            ...(EXECUTION ? { execution: EXECUTION } : {}),
          },
        ],
      }),
  };
  type Row = { system: System; concurrency: number; throughput: number[]; p50: number[]; p99: number[] };
  const rows: Row[] = [];
  const effects = { local: 0, regular: 0 };
  try {
    for (const name of SYSTEMS) await drive(8, 4, (i) => systems[name](`warm-${i}-${randomUUID()}`));
    const probe = `probe-${randomUUID()}`;
    await systems.onceflow(probe);
    const history = await env.client.workflow.getHandle(`once-${probe}`).fetchHistory();
    for (const call of activityCalls(history.events ?? [])) if (EFFECTS.has(call.name)) effects[call.kind]++;
    for (const level of LEVELS) {
      const byName: Partial<Record<System, Row>> = {};
      for (let rep = 0; rep < REPS; rep++) {
        // Rotate which system goes first so drift on a shared machine hits all three alike.
        const order = SYSTEMS.map((_, i) => SYSTEMS[(i + rep) % SYSTEMS.length]!);
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
      for (const name of SYSTEMS) rows.push(byName[name]!);
    }
  } finally {
    onceflowWorker.shutdown();
    bareWorker.shutdown();
    await Promise.all(running);
    await env.close();
  }
  if (effects.local + effects.regular === 0)
    throw new Error(`no effect activity (${[...EFFECTS].join(', ')}) in the order saga's history`);
  if (effects.local > 0 && effects.regular > 0)
    console.log(`the saga's effects are mixed (${effects.local} local, ${effects.regular} regular)`);
  const sameKind = effects.local >= effects.regular ? 'local' : 'regular';
  const baseline: System = sameKind === 'local' ? 'bareLocal' : 'bareRegular';
  console.log(
    `order saga effects: ${effects.local} local activities, ${effects.regular} regular: same-kind baseline ${baseline}`,
  );

  const fmt = (xs: number[]) =>
    `${median(xs).toFixed(1)} (${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)})`;
  console.log(
    'system       conc  tasks/s median (min–max)   p50 ms median (min–max)   p99 ms median (min–max)',
  );
  for (const r of rows) {
    console.log(
      `${r.system.padEnd(12)} ${String(r.concurrency).padStart(4)}  ${fmt(r.throughput).padEnd(25)} ${fmt(r.p50).padEnd(25)} ${fmt(r.p99)}`,
    );
  }
  const get = (system: System, c: number) => rows.find((r) => r.system === system && r.concurrency === c)!;
  const ratios = (against: System) => ({
    throughputRatio: round2(median(get('onceflow', 32).throughput) / median(get(against, 32).throughput)),
    p50LatencyRatio: round2(median(get('onceflow', 1).p50) / median(get(against, 1).p50)),
  });
  const same = ratios(baseline);
  const regular = ratios('bareRegular');
  const t = E2E_TARGETS;
  console.log(
    `vs ${baseline} (same kind): throughputRatio (at 32) ${same.throughputRatio.toFixed(2)} (target >= ${t.sameKind.throughputRatio.min}, ${mark(same.throughputRatio >= t.sameKind.throughputRatio.min)}); ` +
      `p50LatencyRatio (at 1) ${same.p50LatencyRatio.toFixed(2)} (target <= ${t.sameKind.p50LatencyRatio.max}, ${mark(same.p50LatencyRatio <= t.sameKind.p50LatencyRatio.max)})`,
  );
  console.log(
    `vs bareRegular: throughputRatio (at 32) ${regular.throughputRatio.toFixed(2)} (target >= ${t.vsRegularBare.throughputRatio.min}, ${mark(regular.throughputRatio >= t.vsRegularBare.throughputRatio.min)}); ` +
      `p50LatencyRatio (at 1) ${regular.p50LatencyRatio.toFixed(2)} (target <= ${t.vsRegularBare.p50LatencyRatio.max}, ${mark(regular.p50LatencyRatio <= t.vsRegularBare.p50LatencyRatio.max)})`,
  );
  writeResult(EXECUTION ? `e2e-${EXECUTION}` : 'e2e', {
    ...same,
    sameKind,
    vsRegularBare: regular,
    effectCalls: effects,
    targets: E2E_TARGETS,
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
