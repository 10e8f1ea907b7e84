import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import type { OrderDeps } from '../../examples/order-ops/worker.js';
import { loadConfig } from '../../src/config.js';
import { createPool } from '../../src/db/pool.js';
import { migrate } from '../../src/db/migrate.js';
import { startStack } from '../../src/dev/stack.js';
import { activityCalls as readCalls, stampMs } from '../../src/history/activity-calls.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { buildOrderDeps } from '../../examples/order-ops/worker.js';
import { loadOrderConfig } from '../../examples/order-ops/config.js';
import { migrateOrderTables } from '../../examples/order-ops/db.js';

let installed = false;

/** One dev server, Postgres and sandbox for a benchmark, shared by the systems it compares. */
export async function benchEnv(options: { scenariosDir?: string } = {}) {
  if (!installed) {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
    installed = true;
  }
  const scratch = mkdtempSync(join(tmpdir(), 'onceflow-bench-'));
  chmodSync(scratch, 0o755);
  const stack = await startStack({ mode: 'ephemeral', config: loadConfig({}), scratchDir: scratch });
  const pool = createPool(stack.databaseUrl, 20);
  await migrate(pool);
  await migrateOrderTables(pool);
  const sandbox: Sandbox = await startSandbox({
    pool,
    ...(options.scenariosDir ? { scenariosDir: options.scenariosDir } : {}),
  });
  const a = sandbox.addresses;
  const deps: OrderDeps = buildOrderDeps(loadOrderConfig({}), pool, {
    paymentsUrl: a.payments.url,
    smtpUrl: a.smtp.url,
    emailLookupUrl: a.emailApi.url,
    modelBaseUrl: a.model.baseURL,
  });
  const native = await NativeConnection.connect({ address: stack.temporalAddress });
  const connection = await Connection.connect({ address: stack.temporalAddress });
  const client = new Client({ connection, namespace: stack.namespace });
  return {
    stack,
    pool,
    sandbox,
    deps,
    native,
    client,
    scratch,
    close: async () => {
      await native.close();
      await connection.close();
      await deps.ledger.close();
      deps.downstream.mailer.close();
      await sandbox.stop();
      await pool.end();
      await stack.stop();
      rmSync(scratch, { recursive: true, force: true });
    },
  };
}

/** p50/p99 of milliseconds. */
export function percentiles(samples: number[]): { p50: number; p99: number } {
  const sorted = [...samples].sort((x, y) => x - y);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { p50: Math.round(at(0.5) * 10) / 10, p99: Math.round(at(0.99) * 10) / 10 };
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

/** Runs `count` tasks with at most `concurrency` in flight; returns wall ms and per-task latencies. */
export async function drive(count: number, concurrency: number, task: (i: number) => Promise<unknown>) {
  const latencies: number[] = [];
  let next = 0;
  const began = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const i = next++;
        const t = performance.now();
        await task(i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { wallMs: performance.now() - began, latencies };
}

/** Writes bench/results/<name>.json with the machine's description. */
export function writeResult(name: string, result: Record<string, unknown>): void {
  const dir = join(import.meta.dirname, '..', 'results');
  mkdirSync(dir, { recursive: true });
  const machine = {
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  };
  writeFileSync(join(dir, `${name}.json`), `${JSON.stringify({ ...result, machine }, null, 2)}\n`);
}

type HistoryEvent = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];

export { stampMs };

/** One completed activity call of a history with its duration, regular or local. */
export interface TimedCall {
  name: string;
  kind: 'regular' | 'local';
  /**
   * Regular: scheduled → completed (server clock). Local: from the start of its workflow task, or the
   * end of the previous local call in that task, to its completion (worker clock), since a marker's
   * `original_schedule_time` can be later than its `complete_time`; calls run in parallel count their
   * overlap once.
   */
  ms: number;
}

/** Every completed activity call of a history, regular or local, in order, with its duration. */
export function activityCalls(events: HistoryEvent[]): TimedCall[] {
  const taskStarts = events
    .filter((e) => e.workflowTaskStartedEventAttributes)
    .map((e) => ({ id: Number(e.eventId), at: stampMs(e.eventTime) }));
  const calls: TimedCall[] = [];
  let previousLocalEnd = 0;
  let previousTask = 0;
  for (const call of readCalls(events)) {
    if (!call.completed || call.endedAtMs === undefined) continue;
    if (!call.local) {
      calls.push({ name: call.type, kind: 'regular', ms: call.endedAtMs - (call.scheduledAtMs ?? 0) });
      continue;
    }
    const task = taskStarts.filter((t) => t.id < Number(call.eventId)).at(-1)?.at ?? 0;
    if (task !== previousTask) previousLocalEnd = 0;
    previousTask = task;
    const start = Math.max(task, previousLocalEnd);
    calls.push({ name: call.type, kind: 'local', ms: Math.max(0, call.endedAtMs - start) });
    previousLocalEnd = call.endedAtMs;
  }
  return calls;
}
