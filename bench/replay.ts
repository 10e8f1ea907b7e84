/**
 * How long a worker takes to replay an agent session's history, by length: sessions of 10, 50 and 200
 * model turns (each a lookup tool call) replayed with Worker.runReplayHistory against a pre-built bundle.
 * Target (goal): 200 turns < 1 s. Writes bench/results/replay.json.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { createWorker, WORKFLOWS_PATH } from '../src/worker.js';
import { agentWorkflow } from '../src/workflows/index.js';
import { benchEnv, median, writeResult } from './lib/env.js';

const LENGTHS = [10, 50, 200];
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
  const bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quiet });
  const worker = await createWorker({
    connection: env.native,
    namespace: env.stack.namespace,
    taskQueue: 'bench-replay',
    deps: env.deps,
    workflowBundle: bundle,
  });
  const running = worker.run();
  const rows: { turns: number; events: number; ms: number[] }[] = [];
  try {
    await env.pool.query(
      "INSERT INTO customers (customer_id, name, email) VALUES ('cust_bench', 'Bench', 'b@example.com')",
    );
    for (const n of LENGTHS) {
      const workflowId = `replay-${n}-${randomUUID()}`;
      const handle = await env.client.workflow.start(agentWorkflow, {
        taskQueue: 'bench-replay',
        workflowId,
        args: [
          {
            prompt: 'customer_id=cust_bench',
            scenario: `bench-replay-${n}`,
            maxTurns: n + 1,
            continueAsNewAfterTurns: n + 10,
          },
        ],
      });
      await handle.result();
      // Long sessions continue as new when Temporal suggests it (history size): measure the first run.
      const history = await env.client.workflow
        .getHandle(workflowId, handle.firstExecutionRunId)
        .fetchHistory();
      const turnsInHistory = (history.events ?? []).filter(
        (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'callModel',
      ).length;
      const ms: number[] = [];
      for (let rep = 0; rep < REPS; rep++) {
        const t = performance.now();
        await Worker.runReplayHistory({ workflowBundle: bundle }, history, workflowId);
        ms.push(performance.now() - t);
      }
      rows.push({ turns: turnsInHistory, events: history.events?.length ?? 0, ms });
    }
  } finally {
    worker.shutdown();
    await running;
    await env.close();
  }
  console.log('turns  events  replay ms median (min–max)  ms per turn');
  for (const r of rows) {
    const m = median(r.ms);
    console.log(
      `${String(r.turns).padStart(5)}  ${String(r.events).padStart(6)}  ${m.toFixed(0)} (${Math.min(...r.ms).toFixed(0)}–${Math.max(...r.ms).toFixed(0)})`.padEnd(
        36,
      ) + (m / r.turns).toFixed(2),
    );
  }
  const longest = rows.reduce((a, b) => (b.turns > a.turns ? b : a));
  const at200 = (median(longest.ms) / longest.turns) * 200;
  console.log(
    `longest single history: ${longest.turns} turns in ${median(longest.ms).toFixed(0)} ms; ` +
      `200 turns at that rate: ${at200.toFixed(0)} ms (target < 1000 ms)`,
  );
  writeResult('replay', {
    replay200TurnsMs: Math.round(at200),
    longestSingleHistoryTurns: longest.turns,
    rows: rows.map((r) => ({
      turns: r.turns,
      events: r.events,
      medianMs: median(r.ms),
      minMs: Math.min(...r.ms),
      maxMs: Math.max(...r.ms),
    })),
  });
}
