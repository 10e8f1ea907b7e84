/**
 * How long a worker takes to replay an agent session's history, by length: sessions of 10, 50 and 200
 * model turns (each a lookup tool call) replayed with Worker.runReplayHistory against a pre-built bundle.
 * Target (goal): 200 turns < 1 s. Writes bench/results/replay.json; with BENCH_SAVE_HISTORY=<dir>, also
 * the histories (for profiling a replay).
 */
import { sourceBundlerOptions } from '../src/dev/source-entries.js';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import proto from '@temporalio/proto';
import type { temporal as protoTypes } from '@temporalio/proto';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { createOrderWorker, WORKFLOWS_PATH } from '../examples/order-ops/worker.js';
import { agentWorkflow } from '../examples/order-ops/workflows.js';
import { benchEnv, median, writeResult } from './lib/env.js';

// @temporalio/proto is CommonJS: under Node's ESM loader only its default export is reliable.
const { temporal } = proto;
type History = protoTypes.api.history.v1.IHistory;
const LENGTHS = [10, 50, 200];
/** `reference` is onceflow's default; `inline` (the whole transcript in every turn) is the baseline. */
const MODES = ['reference', 'inline'] as const;

interface Row {
  transcript: (typeof MODES)[number];
  requested: number;
  turns: number;
  events: number;
  bytes: number;
  ms: number[];
  history: History;
  workflowId: string;
}
const REPS = Number(process.env.BENCH_REPS ?? 5);

function scenario(turns: number) {
  const lookup = (i: number) => ({
    content: [
      { type: 'text', text: `Checking again (${i}).` },
      {
        type: 'tool_use',
        id: `toolu_${i}`,
        name: 'lookup_customer',
        input: { customer_id: '{{customer_id}}' },
      },
    ],
  });
  return {
    description: `${turns} model turns of lookups, then an answer`,
    turns: [
      ...Array.from({ length: turns - 1 }, (_, i) => lookup(i)),
      { content: [{ type: 'text', text: 'Done.' }] },
    ],
  };
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'onceflow-replay-scenarios-'));
  for (const n of LENGTHS) writeFileSync(join(dir, `bench-replay-${n}.json`), JSON.stringify(scenario(n)));
  const env = await benchEnv({ scenariosDir: dir });
  const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error };
  const bundle = await bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    logger: quiet,
    ...sourceBundlerOptions(),
  });
  const worker = await createOrderWorker({
    connection: env.native,
    namespace: env.stack.namespace,
    taskQueue: 'bench-replay',
    deps: env.deps,
    workflowBundle: bundle,
  });
  const running = worker.run();
  const rows: Row[] = [];
  try {
    await env.pool.query(
      "INSERT INTO customers (customer_id, name, email) VALUES ('cust_bench', 'Bench', 'b@example.com')",
    );
    for (const transcript of MODES) {
      for (const n of LENGTHS) {
        const workflowId = `replay-${transcript}-${n}-${randomUUID()}`;
        const handle = await env.client.workflow.start(agentWorkflow, {
          taskQueue: 'bench-replay',
          workflowId,
          args: [
            {
              prompt: 'customer_id=cust_bench',
              scenario: `bench-replay-${n}`,
              maxTurns: n + 1,
              continueAsNewAfterTurns: n + 10,
              transcript,
            },
          ],
        });
        await handle.result();
        // Long sessions continue as new when Temporal suggests it (history size): measure the first run.
        const history = await env.client.workflow
          .getHandle(workflowId, handle.firstExecutionRunId)
          .fetchHistory();
        if (process.env.BENCH_SAVE_HISTORY) {
          const file = join(process.env.BENCH_SAVE_HISTORY, `replay-${transcript}-${n}.json`);
          writeFileSync(
            file,
            `{"workflowId":${JSON.stringify(workflowId)},"history":${historyToJSON(history)}}`,
          );
        }
        const turnsInHistory = (history.events ?? []).filter(
          (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'callModel',
        ).length;
        rows.push({
          transcript,
          requested: n,
          turns: turnsInHistory,
          events: history.events?.length ?? 0,
          bytes: temporal.api.history.v1.History.encode(history).finish().length,
          ms: [],
          history,
          workflowId,
        });
      }
    }
    // One discarded replay warms the process up; then rounds over every history, so that both modes
    // see the same noise.
    await Worker.runReplayHistory({ workflowBundle: bundle }, rows[0]!.history, rows[0]!.workflowId);
    for (let rep = 0; rep < REPS; rep++) {
      for (const row of rows) {
        const t = performance.now();
        await Worker.runReplayHistory({ workflowBundle: bundle }, row.history, row.workflowId);
        row.ms.push(performance.now() - t);
      }
    }
  } finally {
    worker.shutdown();
    await running;
    await env.close();
  }
  console.log('transcript  turns  events  history KiB  replay ms median (min–max)  ms per turn');
  for (const r of rows) {
    const m = median(r.ms);
    console.log(
      [
        r.transcript.padEnd(10),
        String(r.turns).padStart(5),
        String(r.events).padStart(6),
        (r.bytes / 1024).toFixed(0).padStart(11),
        `${m.toFixed(0)} (${Math.min(...r.ms).toFixed(0)}–${Math.max(...r.ms).toFixed(0)})`.padEnd(26),
        (m / r.turns).toFixed(2),
      ].join('  '),
    );
  }
  const longest = (mode: string) =>
    rows.filter((r) => r.transcript === mode).reduce((a, b) => (b.turns > a.turns ? b : a));
  const ref = longest('reference');
  const inline = longest('inline');
  const at200 = (median(ref.ms) / ref.turns) * 200;
  console.log(
    `reference: longest single history ${ref.turns} turns, replayed in ${median(ref.ms).toFixed(0)} ms` +
      `${ref.turns === 200 ? '' : `; 200 turns at that rate ${at200.toFixed(0)} ms`} (target < 1000 ms)`,
  );
  console.log(
    `inline (baseline): longest single history ${inline.turns} turns (${(inline.bytes / 1024).toFixed(0)} KiB), ` +
      `replayed in ${median(inline.ms).toFixed(0)} ms`,
  );
  const same = (n: number) => {
    const a = rows.find((r) => r.transcript === 'reference' && r.requested === n && r.turns === n);
    const b = rows.find((r) => r.transcript === 'inline' && r.requested === n && r.turns === n);
    return a && b ? { bytes: a.bytes / b.bytes, replay: median(a.ms) / median(b.ms) } : undefined;
  };
  const at50 = same(50);
  if (at50)
    console.log(
      `at 50 turns, reference/inline: history bytes ${at50.bytes.toFixed(2)}×, replay time ${at50.replay.toFixed(2)}×`,
    );
  writeResult('replay', {
    replay200TurnsMs: Math.round(at200),
    longestSingleHistoryTurns: ref.turns,
    inlineLongestSingleHistoryTurns: inline.turns,
    historyBytesRatioAt50: at50?.bytes,
    replayTimeRatioAt50: at50?.replay,
    rows: rows.map((r) => ({
      transcript: r.transcript,
      turns: r.turns,
      events: r.events,
      historyBytes: r.bytes,
      medianMs: median(r.ms),
      minMs: Math.min(...r.ms),
      maxMs: Math.max(...r.ms),
    })),
  });
}
