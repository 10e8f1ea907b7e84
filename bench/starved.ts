/**
 * Agent sessions on a CPU-starved worker: BENCH_STARVED_SESSIONS (default 40) sessions at once,
 * each queried every 30 ms while it runs (as a watching API does) and once more when it has finished,
 * while BENCH_STARVED_SPINNERS (default 6) busy processes take the two cores. Starved workflow tasks
 * outlive 80% of their timeout around local steps, the worker completes them early, and a history
 * whose replay differs from its run would fail a query with a nondeterminism error: this counts them
 * (0 expected; 10 of 40 sessions failed so before `startPatches`). Writes bench/results/starved.json.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createOrderWorker } from '../examples/order-ops/worker.js';
import { agentWorkflow } from '../examples/order-ops/workflows.js';
import { agentStatusQuery, sagaStateQuery, toolCallsQuery, transcriptQuery } from '../src/workflows/index.js';
import { benchEnv, writeResult } from './lib/env.js';

const SESSIONS = Number(process.env.BENCH_STARVED_SESSIONS ?? 40);
const SPINNERS = Number(process.env.BENCH_STARVED_SPINNERS ?? 6);

function spin(): ChildProcess {
  return fork('-e', ['for(;;){}'], { execArgv: [], stdio: 'ignore' });
}

export async function run(): Promise<void> {
  const env = await benchEnv();
  const taskQueue = `bench-starved-${randomUUID().slice(0, 8)}`;
  const worker = await createOrderWorker({
    connection: env.native,
    namespace: env.stack.namespace,
    taskQueue,
    deps: env.deps,
  });
  const running = worker.run();
  const spinners: ChildProcess[] = [];
  const failures: string[] = [];
  const started = Date.now();
  try {
    for (let i = 0; i < SPINNERS; i++) spinners.push(spin());
    await Promise.all(
      Array.from({ length: SESSIONS }, async (_, i) => {
        const id = randomUUID().slice(0, 8);
        await env.pool.query('INSERT INTO customers (customer_id, name, email) VALUES ($1, $2, $3)', [
          `cust_${id}`,
          'S',
          `s-${id}@example.com`,
        ]);
        const handle = await env.client.workflow.start(agentWorkflow, {
          taskQueue,
          workflowId: `starved-${id}`,
          args: [
            {
              prompt: `Order for customer_id=cust_${id} email=s-${id}@example.com as order_id=ord_${id}.`,
              scenario: i % 2 ? 'agent-streamed-text' : 'agent-happy-path',
            },
          ],
        });
        let done = false;
        const result = handle.result().finally(() => (done = true));
        const noteNondeterminism = (err: Error) => {
          if (/ondeterminism/.test(err.message)) failures.push(`${handle.workflowId}: ${err.message}`);
        };
        while (!done) {
          for (const query of [agentStatusQuery, toolCallsQuery, sagaStateQuery])
            await handle.query(query as typeof agentStatusQuery).catch(noteNondeterminism);
          await new Promise((r) => setTimeout(r, 30));
        }
        await result.catch((err: Error) => failures.push(`${handle.workflowId} result: ${err.message}`));
        await handle.query(transcriptQuery).catch(noteNondeterminism);
      }),
    );
  } finally {
    for (const s of spinners) s.kill('SIGKILL');
    worker.shutdown();
    await running;
    await env.close();
  }
  const sessionsFailed = new Set(failures.map((f) => f.split(':')[0])).size;
  console.log(
    `${SESSIONS} sessions with ${SPINNERS} spinning processes in ${((Date.now() - started) / 1000).toFixed(0)} s: ` +
      `${failures.length} nondeterminism errors in ${sessionsFailed} sessions`,
  );
  for (const f of failures.slice(0, 5)) console.log(`  ${f.slice(0, 200)}`);
  writeResult('starved', {
    command: 'npm run bench -- starved',
    sessions: SESSIONS,
    spinners: SPINNERS,
    nondeterminismErrors: failures.length,
    sessionsFailed,
  });
}
