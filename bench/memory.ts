/**
 * Worker memory with sessions waiting for approval: RSS of a real `src/worker.ts` process with 0, 100
 * and 1,000 agent sessions parked on the approval update, with the default workflow cache and with
 * the cache off (WORKER_MAX_CACHED_WORKFLOWS=0: evicted sessions cost nothing until they wake).
 * Each figure is the median of BENCH_MEMORY_SAMPLES (default 5) RSS readings a second apart, with min
 * and max. Writes bench/results/memory.json.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnWorkerProcess } from '../src/dev/worker-process.js';
import { writeSandboxAddresses } from '../src/sandbox/index.js';
import { agentWorkflow } from '../examples/order-ops/workflows.js';
import { agentStatusQuery } from '../src/workflows/index.js';
import { benchEnv, drive, median, writeResult } from './lib/env.js';

const COUNTS = [0, 100, Number(process.env.BENCH_MEMORY_MAX ?? 1000)];
const SAMPLES = Number(process.env.BENCH_MEMORY_SAMPLES ?? 5);

function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return Math.round(Number(line?.[1] ?? 0) / 1024);
}

export async function run(): Promise<void> {
  const env = await benchEnv();
  const sandboxFile = join(env.scratch, 'sandbox.json');
  writeSandboxAddresses(sandboxFile, env.sandbox.addresses);
  await env.pool.query(
    "INSERT INTO customers (customer_id, name, email) VALUES ('cust_mem', 'M', 'm@example.com')",
  );
  const rows: { cache: string; sessions: number; rssMiB: number; minMiB: number; maxMiB: number }[] = [];
  try {
    for (const [cache, size] of [
      ['default', undefined],
      ['off', '0'],
    ] as const) {
      const taskQueue = `bench-memory-${cache}-${randomUUID()}`;
      const worker = spawnWorkerProcess({
        TEMPORAL_ADDRESS: env.stack.temporalAddress,
        TEMPORAL_NAMESPACE: env.stack.namespace,
        DATABASE_URL: env.stack.databaseUrl,
        TASK_QUEUE: taskQueue,
        SANDBOX_FILE: sandboxFile,
        ONCEFLOW_DATA_DIR: env.scratch,
        ...(size ? { WORKER_MAX_CACHED_WORKFLOWS: size } : {}),
      });
      await worker.ready;
      const started: string[] = [];
      try {
        let have = 0;
        for (const target of COUNTS) {
          await drive(target - have, 16, async () => {
            const id = randomUUID().slice(0, 8);
            const h = await env.client.workflow.start(agentWorkflow, {
              taskQueue,
              workflowId: `mem-${id}`,
              args: [
                {
                  prompt: `customer_id=cust_mem email=m@example.com order_id=ord_m${id}`,
                  scenario: 'agent-approval',
                  approvalLimit: 0,
                },
              ],
            });
            started.push(h.workflowId);
            for (let i = 0; i < 200; i++) {
              // Under load a query may time out before a worker takes it ("query timed out before a
              // worker could process it"): ask again, as a caller would.
              const status = await h.query(agentStatusQuery).catch(() => undefined);
              if (status?.pendingApproval) return;
              await new Promise((r) => setTimeout(r, 100));
            }
          });
          have = target;
          await new Promise((r) => setTimeout(r, 2000));
          global.gc?.();
          const readings: number[] = [];
          for (let i = 0; i < SAMPLES; i++) {
            if (i > 0) await new Promise((r) => setTimeout(r, 1000));
            readings.push(rssMiB(worker.child.pid!));
          }
          rows.push({
            cache,
            sessions: target,
            rssMiB: median(readings),
            minMiB: Math.min(...readings),
            maxMiB: Math.max(...readings),
          });
        }
      } finally {
        await drive(started.length, 32, (i) =>
          env.client.workflow.getHandle(started[i]!).terminate('bench done'),
        );
        await worker.kill('SIGTERM');
      }
    }
  } catch (err) {
    // Said before closing: calls still in flight on the other drive lanes fail once the channel closes.
    console.error('memory bench failed:', err);
    throw err;
  } finally {
    await env.close();
  }
  console.log('cache    sessions  worker RSS MiB median (min–max)  per session KiB');
  for (const r of rows) {
    const base = rows.find((x) => x.cache === r.cache && x.sessions === 0)?.rssMiB ?? r.rssMiB;
    const per = r.sessions ? (((r.rssMiB - base) * 1024) / r.sessions).toFixed(0) : '-';
    console.log(
      `${r.cache.padEnd(8)} ${String(r.sessions).padStart(8)}  ${`${r.rssMiB} (${r.minMiB}–${r.maxMiB})`.padStart(31)}  ${per.padStart(15)}`,
    );
  }
  writeResult('memory', {
    samples: SAMPLES,
    rows: rows.map((r) => {
      const base = rows.find((x) => x.cache === r.cache && x.sessions === 0)?.rssMiB ?? r.rssMiB;
      return { ...r, perSessionKiB: r.sessions ? Math.round(((r.rssMiB - base) * 1024) / r.sessions) : null };
    }),
  });
}
