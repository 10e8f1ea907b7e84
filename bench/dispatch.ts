/**
 * Temporal's own dispatch cost, with no work and no onceflow: an empty workflow, four no-op activities
 * in sequence (the baseline), four in parallel, and four no-op local activities, on one dev server and
 * one worker, interleaved round by round at concurrency 1. Prints p50 per kind, each as a ratio of the
 * baseline measured in the same run, and the server's per-dispatch time read from history (scheduled
 * → started of every workflow and activity task). Writes bench/results/dispatch.json.
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { startDevServer } from '../src/dev/temporal-server.js';
import { median, percentiles, writeResult } from './lib/env.js';

const KINDS = [
  'emptyWorkflow',
  'fourSequentialWorkflow',
  'fourParallelWorkflow',
  'fourLocalWorkflow',
] as const;
const ROUNDS = Number(process.env.DISPATCH_ROUNDS ?? 40);
const noop = () => undefined;
const quiet = { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: console.error };

const millis = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) =>
  Number(t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;

export async function run(): Promise<void> {
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // installed by an earlier bench of this process
  }
  const server = await startDevServer({
    extraArgs: (process.env.DISPATCH_SERVER_ARGS ?? '').split(' ').filter(Boolean),
  });
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, namespace: server.namespace });
  const taskQueue = `dispatch-${randomUUID()}`;
  const { code } = await bundleWorkflowCode({
    workflowsPath: new URL('./bare/dispatch-workflows.ts', import.meta.url).pathname,
    logger: quiet,
  });
  const worker = await Worker.create({
    connection: await NativeConnection.connect({ address: server.address }),
    namespace: server.namespace,
    taskQueue,
    workflowBundle: { code },
    activities: { noop: () => Promise.resolve() },
  });
  const latencies: Record<string, number[]> = Object.fromEntries(KINDS.map((k) => [k, []]));
  const dispatches: number[] = [];
  try {
    await worker.runUntil(async () => {
      const once = async (kind: string, id: string) => {
        const began = performance.now();
        await client.workflow.execute(kind, { taskQueue, workflowId: id });
        return performance.now() - began;
      };
      // Warm up past the server's first few dispatches, which are faster than its steady state.
      for (let i = 0; i < 10; i++) for (const kind of KINDS) await once(kind, `warm-${kind}-${i}`);
      for (let round = 0; round < ROUNDS; round++) {
        for (const kind of KINDS) {
          const id = `${kind}-${round}`;
          latencies[kind]!.push(await once(kind, id));
          if (kind !== 'fourSequentialWorkflow') continue;
          const events = (await client.workflow.getHandle(id).fetchHistory()).events ?? [];
          const scheduled = new Map<string, number>();
          for (const e of events) {
            if (e.workflowTaskScheduledEventAttributes || e.activityTaskScheduledEventAttributes)
              scheduled.set(String(e.eventId), millis(e.eventTime));
            const started = e.workflowTaskStartedEventAttributes ?? e.activityTaskStartedEventAttributes;
            const at = scheduled.get(String(started?.scheduledEventId));
            if (at !== undefined) dispatches.push(millis(e.eventTime) - at);
          }
        }
      }
    });
  } finally {
    await connection.close();
    await server.stop();
  }
  const baseline = median(latencies.fourSequentialWorkflow!);
  const rows = KINDS.map((kind) => {
    const { p50, p99 } = percentiles(latencies[kind]!);
    return {
      kind,
      p50Ms: Math.round(p50 * 10) / 10,
      p99Ms: Math.round(p99 * 10) / 10,
      ratioVsSequential: Math.round((p50 / baseline) * 100) / 100,
    };
  });
  const dispatch = percentiles(dispatches);
  console.log('kind                      p50 ms   p99 ms   p50 / four sequential');
  for (const r of rows)
    console.log(
      `${r.kind.padEnd(25)} ${String(r.p50Ms).padStart(6)} ${String(r.p99Ms).padStart(8)}   ${r.ratioVsSequential.toFixed(2)}`,
    );
  console.log(
    `server dispatch (task scheduled → started), four sequential: p50 ${dispatch.p50.toFixed(1)} ms, p99 ${dispatch.p99.toFixed(1)} ms over ${dispatches.length}`,
  );
  writeResult('dispatch', {
    rounds: ROUNDS,
    serverArgs: process.env.DISPATCH_SERVER_ARGS ?? '',
    rows,
    dispatchMs: { p50: dispatch.p50, p99: dispatch.p99, samples: dispatches.length },
  });
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
