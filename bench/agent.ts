/**
 * Scripted agent sessions (agent-happy-path: 5 model turns, 5 tool calls) at concurrency 1 and 16:
 * sessions/s, p50/p99, and where a session's time goes, from its history: model calls (callModel
 * activities, scheduled to completed), tools (the other activities), and the rest (Temporal: workflow
 * tasks, dispatch). Ledger time is inside the tool activities; its per-call cost is the ledger bench's.
 * Writes bench/results/agent.json.
 */
import { randomUUID } from 'node:crypto';
import { createWorker } from '../src/worker.js';
import { agentWorkflow } from '../src/workflows/index.js';
import { benchEnv, drive, median, percentiles, writeResult } from './lib/env.js';

const LEVELS = [
  { concurrency: 1, sessions: Number(process.env.BENCH_AGENT_C1 ?? 10) },
  { concurrency: 16, sessions: Number(process.env.BENCH_AGENT_C16 ?? 64) },
];

const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) =>
  t ? Number(t.seconds ?? 0) * 1000 + (t.nanos ?? 0) / 1e6 : 0;

export async function run(): Promise<void> {
  const env = await benchEnv();
  const worker = await createWorker({
    connection: env.native,
    namespace: env.stack.namespace,
    taskQueue: 'bench-agent',
    deps: env.deps,
    overrides: { maxConcurrentActivityTaskExecutions: 200 },
  });
  const running = worker.run();
  const rows: {
    concurrency: number;
    perSec: number;
    p50: number;
    p99: number;
    model: number;
    tools: number;
    temporal: number;
  }[] = [];
  try {
    for (const level of LEVELS) {
      const ids: string[] = [];
      const session = async () => {
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
            },
          ],
        });
      };
      await drive(4, 2, session);
      ids.length = 0;
      const r = await drive(level.sessions, level.concurrency, session);
      let model = 0;
      let tools = 0;
      let total = 0;
      for (const id of ids.slice(0, 20)) {
        const events = (await env.client.workflow.getHandle(id).fetchHistory()).events ?? [];
        const scheduled = new Map<string, { name: string; at: number }>();
        for (const e of events) {
          const at = ms(e.eventTime);
          if (e.activityTaskScheduledEventAttributes) {
            scheduled.set(String(e.eventId), {
              name: e.activityTaskScheduledEventAttributes.activityType?.name ?? '',
              at,
            });
          }
          const done = e.activityTaskCompletedEventAttributes;
          if (done) {
            const s = scheduled.get(String(done.scheduledEventId));
            if (s && s.name === 'callModel') model += at - s.at;
            else if (s) tools += at - s.at;
          }
        }
        total += ms(events.at(-1)?.eventTime) - ms(events[0]?.eventTime);
      }
      const p = percentiles(r.latencies);
      rows.push({
        concurrency: level.concurrency,
        perSec: level.sessions / (r.wallMs / 1000),
        p50: p.p50,
        p99: p.p99,
        model: model / total,
        tools: tools / total,
        temporal: 1 - (model + tools) / total,
      });
    }
  } finally {
    worker.shutdown();
    await running;
    await env.close();
  }
  console.log('conc  sessions/s  p50 ms  p99 ms  model  tools(+ledger)  temporal/other');
  const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
  for (const r of rows) {
    console.log(
      `${String(r.concurrency).padStart(4)}  ${r.perSec.toFixed(2).padStart(10)}  ${r.p50.toFixed(0).padStart(6)}  ${r.p99.toFixed(0).padStart(6)}  ${pct(r.model).padStart(5)}  ${pct(r.tools).padStart(14)}  ${pct(r.temporal).padStart(14)}`,
    );
  }
  writeResult('agent', { rows, sessionsPerSecAt16: median([rows[1]?.perSec ?? 0]) });
}
