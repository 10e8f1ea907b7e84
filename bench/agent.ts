/**
 * Scripted agent sessions (agent-happy-path: 5 model turns, 5 tool calls) at concurrency 1 and 16:
 * sessions/s, p50/p99, and where a session's time goes: model calls and tool activities from each
 * history (regular activities scheduled to completed; local activities from their markers), the ledger from the worker's own ledger calls (time in `once` /
 * `onceInTransaction` outside the effect they guard), the rest Temporal (workflow tasks, dispatch,
 * queueing). Medians of BENCH_REPS (default 3) repetitions with min and max.
 * Target (issue #16): p50 at concurrency 1 <= 300 ms. Sessions per repetition: BENCH_AGENT_C1
 * (default 10) at concurrency 1, BENCH_AGENT_C16 (default 64) at 16. Each level runs with model turns
 * streamed to the task's live stream (the default) and without (`stream: false`), interleaved in every
 * repetition, so the cost of live output is a ratio measured in the same run. Writes
 * bench/results/agent.json.
 */
import { randomUUID } from 'node:crypto';
import type { Ledger } from '../src/idempotency/ledger.js';
import { createOrderWorker } from '../examples/order-ops/worker.js';
import { agentWorkflow } from '../examples/order-ops/workflows.js';
import { activityCalls, benchEnv, drive, median, percentiles, stampMs, writeResult } from './lib/env.js';

const REPS = Number(process.env.BENCH_REPS ?? 3);
const LEVELS = [
  { concurrency: 1, sessions: Number(process.env.BENCH_AGENT_C1 ?? 10) },
  { concurrency: 16, sessions: Number(process.env.BENCH_AGENT_C16 ?? 64) },
];
/** Issue #16's goal for one session of 5 turns with a scripted model, at concurrency 1. */
const P50_TARGET_MS = 300;
/** Streamed (the default) first: the figures issue #16 tracks are those of the default. */
const MODES = [true, false] as const;
const KEYS = ['perSec', 'p50', 'p99', 'model', 'tools', 'ledger', 'temporal'] as const;
type Sample = Record<(typeof KEYS)[number], number>;

const stat = (xs: number[]) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs) });

/** Accumulates the time ledger calls spend outside the effect they guard: the ledger's own cost. */
function timeLedger(ledger: Ledger): { ms: number } {
  const spent = { ms: 0 };
  const timed =
    <A extends unknown[], R>(perform: (...args: A) => Promise<R>, inner: { ms: number }) =>
    async (...args: A): Promise<R> => {
      const t = performance.now();
      try {
        return await perform(...args);
      } finally {
        inner.ms += performance.now() - t;
      }
    };
  const measure = async <R>(call: (inner: { ms: number }) => Promise<R>): Promise<R> => {
    const inner = { ms: 0 };
    const t = performance.now();
    try {
      return await call(inner);
    } finally {
      spent.ms += performance.now() - t - inner.ms;
    }
  };
  const once = ledger.once.bind(ledger);
  const inTransaction = ledger.onceInTransaction.bind(ledger);
  ledger.once = (req, perform) => measure((inner) => once(req, timed(perform, inner)));
  ledger.onceInTransaction = (req, perform) => measure((inner) => inTransaction(req, timed(perform, inner)));
  return spent;
}

export async function run(): Promise<void> {
  const env = await benchEnv();
  const ledgerTime = timeLedger(env.deps.ledger);
  const worker = await createOrderWorker({
    connection: env.native,
    namespace: env.stack.namespace,
    taskQueue: 'bench-agent',
    deps: env.deps,
    overrides: { maxConcurrentActivityTaskExecutions: 200 },
  });
  const running = worker.run();
  const samples = new Map<string, Sample[]>();
  const session = (ids: string[], stream: boolean) => async () => {
    const id = randomUUID().slice(0, 8);
    await env.pool.query('INSERT INTO customers (customer_id, name, email) VALUES ($1, $2, $3)', [
      `cust_${id}`,
      'B',
      `a-${id}@example.com`,
    ]);
    ids.push(`agent-${id}`);
    await env.client.workflow.execute(agentWorkflow, {
      taskQueue: 'bench-agent',
      workflowId: `agent-${id}`,
      args: [
        {
          prompt: `Order for customer_id=cust_${id} email=a-${id}@example.com as order_id=ord_${id}.`,
          scenario: 'agent-happy-path',
          stream,
        },
      ],
    });
  };
  try {
    await drive(4, 2, session([], true));
    for (let rep = 0; rep < REPS; rep++) {
      for (const level of LEVELS)
        for (const stream of MODES) {
          const ids: string[] = [];
          ledgerTime.ms = 0;
          const r = await drive(level.sessions, level.concurrency, session(ids, stream));
          const ledgerShare = ledgerTime.ms / r.latencies.reduce((a, b) => a + b, 0);
          let model = 0;
          let tools = 0;
          let total = 0;
          for (const id of ids.slice(0, 20)) {
            const events = (await env.client.workflow.getHandle(id).fetchHistory()).events ?? [];
            for (const call of activityCalls(events)) {
              if (call.name === 'callModel') model += call.ms;
              else tools += call.ms;
            }
            total += stampMs(events.at(-1)?.eventTime) - stampMs(events[0]?.eventTime);
          }
          const p = percentiles(r.latencies);
          const list = samples.get(`${level.concurrency}/${stream}`) ?? [];
          list.push({
            perSec: level.sessions / (r.wallMs / 1000),
            p50: p.p50,
            p99: p.p99,
            model: model / total,
            tools: tools / total - ledgerShare,
            ledger: ledgerShare,
            temporal: 1 - (model + tools) / total,
          });
          samples.set(`${level.concurrency}/${stream}`, list);
        }
    }
  } finally {
    worker.shutdown();
    await running;
    await env.close();
  }
  const rowOf = (level: (typeof LEVELS)[number], stream: boolean) => {
    const list = samples.get(`${level.concurrency}/${stream}`) ?? [];
    const stats = Object.fromEntries(KEYS.map((k) => [k, stat(list.map((x) => x[k]))])) as Record<
      (typeof KEYS)[number],
      ReturnType<typeof stat>
    >;
    return { concurrency: level.concurrency, sessions: level.sessions, stream, ...stats };
  };
  const rows = LEVELS.map((level) => rowOf(level, true));
  const unstreamed = LEVELS.map((level) => rowOf(level, false));
  console.log(
    `conc  sessions/s median (min–max)  p50 ms  p99 ms  model  tools  ledger  temporal/other  (medians of ${REPS})`,
  );
  const pct = (x: { median: number }) => `${(x.median * 100).toFixed(0)}%`;
  for (const r of [...rows, ...unstreamed]) {
    console.log(
      [
        `${String(r.concurrency).padStart(4)}${r.stream ? '' : ' (stream off)'}`,
        `${r.perSec.median.toFixed(2)} (${r.perSec.min.toFixed(2)}–${r.perSec.max.toFixed(2)})`.padEnd(27),
        r.p50.median.toFixed(0).padStart(6),
        r.p99.median.toFixed(0).padStart(6),
        pct(r.model).padStart(5),
        pct(r.tools).padStart(5),
        pct(r.ledger).padStart(6),
        pct(r.temporal).padStart(14),
      ].join('  '),
    );
  }
  const at1 = rows.find((r) => r.concurrency === 1);
  if (at1) {
    const p50 = at1.p50.median;
    console.log(
      `p50 at concurrency 1: ${p50.toFixed(0)} ms (target <= ${P50_TARGET_MS} ms, ${p50 <= P50_TARGET_MS ? 'met' : 'missed'})`,
    );
  }
  const streaming = LEVELS.map((level, i) => {
    const on = rows[i]!;
    const off = unstreamed[i]!;
    return {
      concurrency: level.concurrency,
      on: { sessionsPerSec: on.perSec.median, p50Ms: on.p50.median },
      off: { sessionsPerSec: off.perSec.median, p50Ms: off.p50.median },
      throughputRatio: on.perSec.median / off.perSec.median,
      p50LatencyRatio: on.p50.median / off.p50.median,
    };
  });
  for (const s of streaming)
    console.log(
      `streaming on vs off at concurrency ${s.concurrency}: ${s.throughputRatio.toFixed(2)}x sessions/s, ${s.p50LatencyRatio.toFixed(2)}x p50`,
    );
  writeResult('agent', {
    streaming,
    reps: REPS,
    levels: rows.map((r) => ({
      concurrency: r.concurrency,
      sessionsPerSec: r.perSec.median,
      p50Ms: r.p50.median,
      p99Ms: r.p99.median,
    })),
    targets: { p50MsAt1: { max: P50_TARGET_MS } },
    rows,
    sessionsPerSecAt1: at1?.perSec.median,
    sessionsPerSecAt16: rows.find((r) => r.concurrency === 16)?.perSec.median,
  });
}
