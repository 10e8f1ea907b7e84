import { mkdtempSync, chmodSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { codecFromEnv } from '../../src/codec/aes-gcm.js';
import { loadConfig } from '../../src/config.js';
import { createPool } from '../../src/db/pool.js';
import { migrate } from '../../src/db/migrate.js';
import { startStack, type Stack } from '../../src/dev/stack.js';
import { spawnWorkerProcess, type WorkerProcess } from '../../src/dev/worker-process.js';
import { startSandbox, writeSandboxAddresses } from '../../src/sandbox/index.js';
import { migrateOrderTables } from '../../examples/order-ops/db.js';
import { auditTask, stuckClaims, type TaskAudit, type TaskOutcome } from './audit.js';
import { makePlan, seededRandom, type FaultName } from './plan.js';
import { runTask } from './task.js';

export interface ChaosOptions {
  runs: number;
  seed: number;
  faults: readonly FaultName[];
  /** Worker processes on the task queue; default 2. */
  workers: number;
  /** Tasks in flight at once; default 8. */
  concurrency: number;
  /** Per task; past it the task counts as unfinished. */
  timeoutMs: number;
  /**
   * Encrypt payloads with a fresh AES-256-GCM key on the workers and the chaos client, as `npm start`
   * does. Default true: the default setup is the one users run.
   */
  encrypt?: boolean;
  /** An existing dev server and Postgres; default: start an ephemeral stack. */
  env?: { temporalAddress: string; namespace: string; databaseUrl: string };
  log?: (line: string) => void;
}

export interface ChaosReport {
  runs: number;
  seed: number;
  /** Whether payloads were encrypted (the `npm start` default). */
  encrypted: boolean;
  faults: Record<string, number>;
  states: Record<string, number>;
  effectsObserved: number;
  effectsDistinct: number;
  duplicates: number;
  lostCompensations: number;
  missingEffects: number;
  /** Tasks whose final status or saga state disagree with the downstream: must be 0. */
  statusDisagreements: number;
  needsAttention: number;
  unfinished: number;
  stuckClaims: number;
  p50LatencyMs: number;
  p99LatencyMs: number;
  /** Task latency by planned fault (a task with several faults counts under each), and `none`. */
  latencyByFault: Record<string, { tasks: number; p50Ms: number; p99Ms: number }>;
  failing: { workflowId: string; problems: string[] }[];
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : 0;
}

function latencyByFault(
  outcomes: readonly {
    plan: { faults: readonly string[]; kind: string; execution?: string };
    latencyMs: number;
  }[],
): ChaosReport['latencyByFault'] {
  const groups = new Map<string, number[]>();
  for (const o of outcomes) {
    const names = o.plan.faults.map((f) =>
      f === 'kill' && (o.plan.kind === 'agent' || o.plan.execution === 'local') ? 'killLocal' : f,
    );
    for (const name of names.length ? names : ['none']) {
      groups.set(name, [...(groups.get(name) ?? []), o.latencyMs]);
    }
  }
  return Object.fromEntries(
    [...groups].map(([name, values]) => [
      name,
      { tasks: values.length, p50Ms: percentile(values, 50), p99Ms: percentile(values, 99) },
    ]),
  );
}

/**
 * A chaos run: N planned tasks through real worker processes while faults are injected, then an audit
 * of downstream truth. Everything it starts, it stops.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? (() => undefined);
  const scratch = mkdtempSync(join(tmpdir(), 'onceflow-chaos-'));
  chmodSync(scratch, 0o755);
  let stack: Stack | undefined;
  const cleanups: (() => Promise<void>)[] = [];
  try {
    const env =
      options.env ??
      (await (async () => {
        stack = await startStack({ mode: 'ephemeral', config: loadConfig({}), scratchDir: scratch, log });
        return {
          temporalAddress: stack.temporalAddress,
          namespace: stack.namespace,
          databaseUrl: stack.databaseUrl,
        };
      })());
    const pool = createPool(env.databaseUrl, 8, 'onceflow-chaos');
    cleanups.push(() => pool.end());
    await migrate(pool);
    await migrateOrderTables(pool);
    const sandbox = await startSandbox({ pool, seed: options.seed });
    cleanups.push(sandbox.stop);
    const sandboxFile = join(scratch, 'sandbox.json');
    writeSandboxAddresses(sandboxFile, sandbox.addresses);
    const codecKey = options.encrypt === false ? undefined : `k1:${randomBytes(32).toString('base64')}`;
    const codec = codecKey ? codecFromEnv({ ONCEFLOW_CODEC_KEY: codecKey }) : undefined;
    const connection = await Connection.connect({ address: env.temporalAddress });
    cleanups.push(() => connection.close());
    const client = new Client({
      connection,
      namespace: env.namespace,
      ...(codec ? { dataConverter: { payloadCodecs: [codec] } } : {}),
    });
    const taskQueue = `chaos-${options.seed}-${Date.now()}`;

    const plan = makePlan(options.runs, options.seed, options.faults);
    for (const task of plan) {
      await pool.query(
        'INSERT INTO customers (customer_id, name, email) VALUES ($1, $2, $3) ON CONFLICT (customer_id) DO NOTHING',
        [task.customerId, `Chaos ${task.index}`, task.email],
      );
    }

    const counts: Record<string, number> = {};
    const count = (fault: string) => {
      counts[fault] = (counts[fault] ?? 0) + 1;
    };

    // Worker processes: a killed one is replaced, as an orchestrator would.
    let stopping = false;
    const workers: WorkerProcess[] = [];
    const spawn = (slot: number): WorkerProcess => {
      const worker = spawnWorkerProcess({
        TEMPORAL_ADDRESS: env.temporalAddress,
        TEMPORAL_NAMESPACE: env.namespace,
        DATABASE_URL: env.databaseUrl,
        TASK_QUEUE: taskQueue,
        SANDBOX_FILE: sandboxFile,
        PG_POOL_SIZE: '6',
        ONCEFLOW_DATA_DIR: scratch, // no key file there: the codec is ONCEFLOW_CODEC_KEY or none
        ...(codecKey ? { ONCEFLOW_CODEC_KEY: codecKey } : {}),
      });
      workers[slot] = worker;
      worker.child.once('exit', () => {
        if (!stopping) setTimeout(() => spawn(slot), 300);
      });
      return worker;
    };
    for (let slot = 0; slot < options.workers; slot++) spawn(slot);
    cleanups.push(async () => {
      stopping = true;
      await Promise.all(workers.map((w) => w.kill('SIGTERM')));
    });
    await Promise.all(workers.map((w) => w.ready));
    log(`${options.workers} worker processes polling ${taskQueue}`);
    const killWorker = async (identity: string | undefined) => {
      const pid = Number(identity?.split('@')[0]);
      const target = workers.find((w) => w.child.pid === pid) ?? workers[0];
      if (!target) return false;
      await target.kill('SIGKILL');
      return true;
    };

    // Run-wide: terminate a random worker connection to Postgres now and then.
    const random = seededRandom(options.seed ^ 0x5eed);
    let killing = options.faults.includes('pgKill');
    const pgKiller = (async () => {
      while (killing) {
        await new Promise((r) => setTimeout(r, 500 + random() * 1500));
        if (!killing) break;
        const { rowCount } = await pool
          .query(
            `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
              WHERE application_name = 'onceflow-worker' ORDER BY (state <> 'idle') DESC, random() LIMIT 1`,
          )
          .catch(() => ({ rowCount: 0 }));
        if (rowCount) count('pgKill');
      }
    })();

    for (const task of plan)
      for (const f of task.faults)
        if (!['kill', 'dupStart', 'reset', 'resetPastUndo', 'startAfterDone'].includes(f)) count(f);
    const outcomes: TaskOutcome[] = [];
    let next = 0;
    const ctx = { client, pool, sandbox, taskQueue, killWorker, count, timeoutMs: options.timeoutMs };
    await Promise.all(
      Array.from({ length: Math.min(options.concurrency, plan.length) }, async () => {
        while (next < plan.length) {
          const task = plan[next++]!;
          const outcome = await runTask(task, ctx);
          outcomes.push(outcome);
          if (outcomes.length % 25 === 0 || outcomes.length === plan.length) {
            log(`${outcomes.length}/${plan.length} tasks finished`);
          }
        }
      }),
    );
    killing = false;
    await pgKiller;

    const audits: TaskAudit[] = [];
    for (const outcome of outcomes.sort((a, b) => a.plan.index - b.plan.index))
      audits.push(await auditTask(pool, outcome));
    const states: Record<string, number> = {};
    for (const o of outcomes) states[o.state] = (states[o.state] ?? 0) + 1;
    const sum = (f: (a: TaskAudit) => number) => audits.reduce((s, a) => s + f(a), 0);
    const latencies = outcomes.map((o) => o.latencyMs);
    return {
      runs: options.runs,
      seed: options.seed,
      encrypted: codec !== undefined,
      faults: counts,
      states,
      effectsObserved: sum((a) => a.observed),
      effectsDistinct: sum((a) => a.distinct),
      duplicates: sum((a) => a.duplicates),
      lostCompensations: sum((a) => a.lostCompensations),
      missingEffects: sum((a) => a.missing),
      statusDisagreements: sum((a) => a.statusDisagreements),
      needsAttention: states.compensation_failed ?? 0,
      unfinished: (states.unfinished ?? 0) + (states.failed ?? 0),
      stuckClaims: await stuckClaims(
        pool,
        plan.map((p) => p.workflowId),
      ),
      p50LatencyMs: percentile(latencies, 50),
      p99LatencyMs: percentile(latencies, 99),
      latencyByFault: latencyByFault(outcomes),
      failing: audits
        .filter((a) => a.problems.length > 0)
        .map((a) => ({ workflowId: a.workflowId, problems: a.problems })),
    };
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    await stack?.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** True when the run proves the promise: no duplicate, no lost compensation, everything finished and explained. */
export function chaosPassed(report: ChaosReport): boolean {
  return (
    report.duplicates === 0 &&
    report.lostCompensations === 0 &&
    report.unfinished === 0 &&
    report.missingEffects === 0 &&
    report.statusDisagreements === 0 &&
    report.stuckClaims === 0
  );
}
