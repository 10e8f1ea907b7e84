import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { Worker } from '@temporalio/worker';
import type { Command } from 'commander';
import { Ledger } from '../idempotency/ledger.js';
import { beforeFirstCharge } from '../reset-point.js';
import { WORKFLOWS_PATH } from '../worker.js';
import { withContext } from './context.js';

const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };

/** `replay`, `reset`, `ledger`. */
export function registerHistoryCommands(program: Command): void {
  program
    .command('replay')
    .description(
      'replay a run (or recent runs) against the current workflow code: OK or the determinism violation',
    )
    .argument('[id]', 'task (workflow) ID')
    .option('--all', 'replay the 20 most recent onceflow runs')
    .option('--workflows <path>', 'workflow code to replay against', WORKFLOWS_PATH)
    .option('--json', 'print JSON')
    .action(async (id: string | undefined, opts: { all?: boolean; workflows: string; json?: boolean }) => {
      await withContext({ json: Boolean(opts.json) }, async (ctx) => {
        const client = await ctx.client();
        const ids: string[] = [];
        if (opts.all) {
          for await (const wf of client.workflow.list({ query: 'OnceflowKind IS NOT NULL' })) {
            ids.push(wf.workflowId);
            if (ids.length >= 20) break;
          }
        } else if (id) ids.push(id);
        else throw new Error('give a task ID or --all');
        const histories = ids.map((workflowId) => ({
          workflowId,
          history: client.workflow.getHandle(workflowId).fetchHistory(),
        }));
        const results: { workflowId: string; ok: boolean; error?: string }[] = [];
        const workflowsPath = resolve(opts.workflows);
        for (const { workflowId, history } of histories) {
          try {
            await Worker.runReplayHistory(
              { workflowsPath, bundlerOptions: { logger: quiet } as never },
              await history,
              workflowId,
            );
            results.push({ workflowId, ok: true });
          } catch (err) {
            results.push({ workflowId, ok: false, error: err instanceof Error ? err.message : String(err) });
          }
        }
        ctx.print(
          results
            .map((r) => `${r.ok ? 'OK  ' : 'FAIL'} ${r.workflowId}${r.error ? `: ${r.error}` : ''}`)
            .join('\n'),
          { results },
        );
        return results.every((r) => r.ok);
      });
    });

  program
    .command('reset')
    .description('reset a session to a point and let it continue; the ledger keeps effects single')
    .argument('<id>', 'task (workflow) ID')
    .requiredOption('--to <point>', 'before-charge | first-workflow-task | last-workflow-task | <event id>')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { to: string; json?: boolean }) => {
      await withContext({ json: Boolean(opts.json) }, async (ctx) => {
        const client = await ctx.client();
        const handle = client.workflow.getHandle(id);
        const { runId } = await handle.describe();
        const events = (await handle.fetchHistory()).events ?? [];
        const completed = events.filter((e) => e.workflowTaskCompletedEventAttributes);
        let point: (typeof events)[number] | undefined;
        if (opts.to === 'first-workflow-task') point = completed[0];
        else if (opts.to === 'last-workflow-task') point = completed.at(-1);
        else if (opts.to === 'before-charge') {
          point = beforeFirstCharge(events);
          if (!point) throw new Error(`task ${id} has no charge to reset before`);
        } else if (/^\d+$/.test(opts.to)) {
          point = completed.find((e) => String(e.eventId) === opts.to);
          if (!point) throw new Error(`event ${opts.to} is not a completed workflow task of ${id}`);
        } else throw new Error(`unknown reset point ${opts.to}`);
        if (!point?.eventId) throw new Error(`no reset point ${opts.to} in ${id}`);
        const response = await client.workflowService.resetWorkflowExecution({
          namespace: ctx.config.namespace,
          workflowExecution: { workflowId: id, runId },
          reason: `onceflow reset --to ${opts.to}`,
          workflowTaskFinishEventId: point.eventId,
          requestId: randomUUID(),
        });
        ctx.print(`reset ${id} to event ${String(point.eventId)}: new run ${response.runId ?? '?'}`, {
          id,
          eventId: Number(point.eventId),
          runId: response.runId,
        });
      });
    });

  program
    .command('ledger')
    .description(
      'what the idempotency ledger did: executed, replayed (duplicates prevented), conflicts, recoveries',
    )
    .option('--scope <id>', 'one task (workflow ID)')
    .option('--json', 'print JSON')
    .action(async (opts: { scope?: string; json?: boolean }) => {
      await withContext({ json: Boolean(opts.json) }, async (ctx) => {
        const ledger = new Ledger(ctx.pool());
        const stats = await ledger.stats(opts.scope ? { scope: opts.scope } : {});
        await ledger.close();
        const s = stats as unknown as Record<string, unknown>;
        const human = Object.entries(s)
          .filter(([, v]) => typeof v === 'number')
          .map(([k, v]) => `${k.padEnd(22)} ${String(v)}`)
          .join('\n');
        ctx.print(human, stats);
      });
    });
}
