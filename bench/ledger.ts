/**
 * What the ledger costs next to raw Postgres round trips (DESIGN "The ledger", cost notes).
 * Starts its own embedded Postgres with default durability (fsync and synchronous_commit on), or uses
 * `DATABASE_URL`; writes bench/results/ledger.json. Targets: first execution (claim first, as effect()
 * does on an activity's first attempt) <= 2.5x a raw INSERT,
 * replay <= 1.3x a raw SELECT by primary key (goals, not assertions).
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { migrate } from '../src/db/migrate.js';
import { createPool } from '../src/db/pool.js';
import { fingerprint } from '../src/idempotency/keys.js';
import { Ledger } from '../src/idempotency/ledger.js';
import { benchDatabase, durabilitySettings } from './lib/postgres.js';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 2000);
const WARMUP = 200;
const CONCURRENCY = 32;
const CONCURRENT_OPS = Number(process.env.BENCH_CONCURRENT_OPS ?? 4000);
const RAW_TABLE = 'bench_ledger_raw';

interface Latency {
  p50: number;
  p99: number;
  mean: number;
}

function latency(samples: number[]): Latency {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  const mean = sorted.reduce((s, x) => s + x, 0) / sorted.length;
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return { p50: round(at(0.5)), p99: round(at(0.99)), mean: round(mean) };
}

async function opsPerSecond(total: number, op: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let i = next++; i < total; i = next++) await op(i);
    }),
  );
  return Math.round(total / (Number(process.hrtime.bigint() - start) / 1e9));
}

export async function run(): Promise<void> {
  const db = await benchDatabase();
  const pool = createPool(db.url, CONCURRENCY + 2);
  const ledger = new Ledger(pool);
  const scope = `bench-${randomUUID()}`;
  const fp = fingerprint({ amount: 100 });
  const receipt = { receipt: 'r' };
  const request = (key: string) => ({
    key,
    scope,
    operation: 'bench_noop',
    fingerprint: fp,
    recovery: 'resume' as const,
  });
  try {
    await migrate(pool);
    await pool.query(`DROP TABLE IF EXISTS ${RAW_TABLE}`);
    await pool.query(`CREATE TABLE ${RAW_TABLE} (id text PRIMARY KEY, payload jsonb NOT NULL)`);
    const payload = JSON.stringify(receipt);
    // Named statements on both sides: the ledger prepares its hot statements too.
    const rawInsert = (id: string) =>
      pool.query({
        name: 'bench_raw_insert',
        text: `INSERT INTO ${RAW_TABLE} (id, payload) VALUES ($1, $2)`,
        values: [id, payload],
      });
    const rawSelect = (id: string) =>
      pool.query({
        name: 'bench_raw_select',
        text: `SELECT * FROM ${RAW_TABLE} WHERE id = $1`,
        values: [id],
      });
    const firstExec = (key: string) => ledger.once(request(key), () => Promise.resolve(receipt));
    const firstExecClaimFirst = (key: string) =>
      ledger.once({ ...request(key), claimFirst: true }, () => Promise.resolve(receipt));
    const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${scope}-${i}`);

    const rawIds = ids('raw', WARMUP + ITERATIONS);
    const keys = ids('ik', WARMUP + ITERATIONS);
    const claimFirstKeys = ids('ik-cf', WARMUP + ITERATIONS);
    const pick = (list: string[], below: number) => list[Math.floor(Math.random() * below)]!;
    // Interleaved, so that drift (checkpoints, table growth, a noisy neighbour) hits all four alike.
    const samples = {
      insert: [] as number[],
      select: [] as number[],
      firstExec: [] as number[],
      firstExecClaimFirst: [] as number[],
      replay: [] as number[],
    };
    for (let i = 0; i < WARMUP + ITERATIONS; i++) {
      const keep = i >= WARMUP;
      const timed = async (into: number[], op: () => Promise<unknown>) => {
        const start = process.hrtime.bigint();
        await op();
        if (keep) into.push(Number(process.hrtime.bigint() - start) / 1e6);
      };
      await timed(samples.insert, () => rawInsert(rawIds[i]!));
      await timed(samples.firstExec, () => firstExec(keys[i]!));
      await timed(samples.firstExecClaimFirst, () => firstExecClaimFirst(claimFirstKeys[i]!));
      await timed(samples.select, () => rawSelect(pick(rawIds, i + 1)));
      await timed(samples.replay, async () => {
        const done = await firstExec(pick(keys, i + 1));
        if (done.outcome !== 'replayed') throw new Error(`expected a replay, got ${done.outcome}`);
      });
    }

    const concurrentRaw = ids('raw-c', CONCURRENT_OPS);
    const concurrentKeys = ids('ik-c', CONCURRENT_OPS);
    const rawInsertOpsPerSec = await opsPerSecond(CONCURRENT_OPS, (i) => rawInsert(concurrentRaw[i]!));
    const guardedOpsPerSec = await opsPerSecond(CONCURRENT_OPS, (i) => firstExec(concurrentKeys[i]!));

    const raw = {
      insert: latency(samples.insert),
      select: latency(samples.select),
      guardedFirstExec: latency(samples.firstExec),
      guardedFirstExecClaimFirst: latency(samples.firstExecClaimFirst),
      guardedReplay: latency(samples.replay),
    };
    const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
    const results = {
      at: new Date().toISOString(),
      database: { source: db.source, ...(await durabilitySettings(pool)) },
      machine: {
        cores: cpus().length,
        cpu: cpus()[0]?.model ?? 'unknown',
        memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
        node: process.version,
      },
      iterations: ITERATIONS,
      concurrency: CONCURRENCY,
      latencyMs: raw,
      firstExecRatioVsInsert: ratio(raw.guardedFirstExec.p50, raw.insert.p50),
      firstExecClaimFirstRatioVsInsert: ratio(raw.guardedFirstExecClaimFirst.p50, raw.insert.p50),
      replayRatioVsSelect: ratio(raw.guardedReplay.p50, raw.select.p50),
      guardedOpsPerSec,
      rawInsertOpsPerSec,
      targets: { firstExecClaimFirstRatioVsInsert: 2.5, replayRatioVsSelect: 1.3 },
    };

    console.log(
      `${results.database.source}: ${results.database.version?.split(',')[0] ?? 'unknown version'}`,
    );
    console.log(`fsync=${results.database.fsync} synchronous_commit=${results.database.synchronousCommit}`);
    console.log(
      `${results.machine.cores} cores, ${results.machine.memoryGiB} GiB, node ${results.machine.node}\n`,
    );
    console.table(
      Object.fromEntries(
        Object.entries(raw).map(([name, l]) => [
          name,
          { 'p50 ms': l.p50, 'p99 ms': l.p99, 'mean ms': l.mean },
        ]),
      ),
    );
    // effect() claims first on an activity's first attempt (most first executions), reads first on retries.
    console.log(
      `first execution / raw INSERT (p50), as effect() runs it (claim first on attempt 1): ${results.firstExecClaimFirstRatioVsInsert}x (target <= 2.5x)`,
    );
    console.log(
      `  read first (retries, and effect() before this release): ${results.firstExecRatioVsInsert}x`,
    );
    console.log(`replay / raw SELECT (p50):          ${results.replayRatioVsSelect}x (target <= 1.3x)`);
    console.log(
      `at concurrency ${CONCURRENCY}: guarded first execution ${guardedOpsPerSec} ops/s, raw INSERT ${rawInsertOpsPerSec} ops/s`,
    );

    const out = fileURLToPath(new URL('./results/', import.meta.url));
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'ledger.json'), `${JSON.stringify(results, null, 2)}\n`);
    console.log(`\nwrote ${join(out, 'ledger.json')}`);
  } finally {
    await ledger.close().catch(() => undefined);
    await pool.query('DELETE FROM idempotency_ledger WHERE scope = $1', [scope]).catch(() => undefined);
    await pool.query(`DROP TABLE IF EXISTS ${RAW_TABLE}`).catch(() => undefined);
    await pool.end();
    await db.stop();
  }
}
