import type { Command } from 'commander';
import { describeTask } from '../api/tasks.js';
import { uiLink } from '../client.js';
import {
  agentWorkflow,
  approveUpdate,
  denyUpdate,
  toolCallsQuery,
  type ToolCallRecord,
} from '../workflows/index.js';
import { withContext, type CliContext } from './context.js';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

function callLine(c: ToolCallRecord): string {
  return `  turn ${c.turn}  ${c.name.padEnd(16)} ${c.outcome.padEnd(9)} ${c.key ? c.key.slice(0, 14) + '…' : ''}${c.error ? `  (${c.error})` : ''}`;
}

async function status(ctx: CliContext, id: string) {
  const client = await ctx.client();
  return describeTask(
    { client, pool: ctx.pool(), taskQueue: ctx.config.taskQueue, uiUrl: ctx.config.temporalUiUrl },
    id,
  );
}

/** `run`, `status`, `approve`, `deny`, `cancel`. */
export function registerTaskCommands(program: Command): void {
  program
    .command('run')
    .description('start an agent task and follow it: a line per tool call, then the result and the UI link')
    .argument('<prompt>', 'what the agent should do')
    .option('--customer <id>', 'the customer the task acts for')
    .option('--scenario <name>', 'scripted sandbox scenario (the embedded model)', 'agent-happy-path')
    .option('--id <taskId>', 'task (workflow) ID; the same ID attaches to the same task')
    .option('--json', 'print the final result as JSON only')
    .action(
      async (prompt: string, opts: { customer?: string; scenario: string; id?: string; json?: boolean }) => {
        await withContext({ json: Boolean(opts.json) }, async (ctx) => {
          const client = await ctx.client();
          const workflowId = opts.id ?? `run-${Date.now().toString(36)}`;
          const handle = await client.workflow.start(agentWorkflow, {
            taskQueue: ctx.config.taskQueue,
            workflowId,
            args: [
              { prompt, scenario: opts.scenario, ...(opts.customer ? { customerId: opts.customer } : {}) },
            ],
          });
          const tty = process.stderr.isTTY && !opts.json;
          let shown = 0;
          let frame = 0;
          let done = false;
          const result = handle.result().finally(() => {
            done = true;
          });
          result.catch(() => undefined);
          if (!opts.json) process.stderr.write(`task ${workflowId} started\n`);
          while (!done) {
            const calls = await handle.query(toolCallsQuery).catch(() => [] as ToolCallRecord[]);
            if (!opts.json)
              for (const c of calls.slice(shown))
                process.stderr.write(`${tty ? '\r\x1b[K' : ''}${callLine(c)}\n`);
            shown = Math.max(shown, calls.length);
            if (tty) process.stderr.write(`\r${FRAMES[frame++ % FRAMES.length]} waiting…`);
            await new Promise((r) => setTimeout(r, 200));
          }
          if (tty) process.stderr.write('\r\x1b[K');
          const link = uiLink(
            ctx.config.temporalUiUrl,
            ctx.config.namespace,
            workflowId,
            handle.firstExecutionRunId,
          );
          try {
            const r = await result;
            ctx.print(`${r.status}: ${r.finalText}\n${r.usage.turns} model turns · ${link}`, {
              workflowId,
              link,
              ...r,
            });
            return r.status === 'completed';
          } catch (err) {
            const message =
              err instanceof Error
                ? err.cause instanceof Error
                  ? err.cause.message
                  : err.message
                : String(err);
            ctx.print(`failed: ${message}\n${link}`, { workflowId, link, status: 'failed', error: message });
            return false;
          }
        });
      },
    );

  program
    .command('status')
    .description('status, result, saga state, tool calls with keys, usage and the UI link of a task')
    .argument('<id>', 'task (workflow) ID')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      await withContext({ json: Boolean(opts.json) }, async (ctx) => {
        const task = await status(ctx, id);
        const lines = [
          `${task.id} (${task.kind}): ${task.status}${task.failure ? ` — ${task.failure}` : ''}`,
          ...(task.saga
            ? [
                `saga: ${task.saga.status}${task.saga.needsAttention.length ? `, needs a person: ${task.saga.needsAttention.map((a) => a.action).join('; ')}` : ''}`,
              ]
            : []),
          ...(task.kind === 'agent' ? (task.toolCalls as ToolCallRecord[]).map(callLine) : []),
          task.link,
        ];
        ctx.print(lines.join('\n'), task);
      });
    });

  for (const [name, approved] of [
    ['approve', true],
    ['deny', false],
  ] as const) {
    program
      .command(name)
      .description(`${name} the call a task is waiting on`)
      .argument('<id>', 'task (workflow) ID')
      .option('--note <text>', 'why')
      .option('--by <who>', 'who decides')
      .option('--json', 'print JSON')
      .action(async (id: string, opts: { note?: string; by?: string; json?: boolean }) => {
        await withContext({ json: Boolean(opts.json) }, async (ctx) => {
          const client = await ctx.client();
          const args = { ...(opts.note ? { note: opts.note } : {}), ...(opts.by ? { by: opts.by } : {}) };
          const call = await client.workflow
            .getHandle(id)
            .executeUpdate(approved ? approveUpdate : denyUpdate, { args: [args] })
            .catch((err: unknown) => {
              throw new Error(
                `task ${id} has no call waiting for approval (${err instanceof Error ? err.message : String(err)})`,
              );
            });
          ctx.print(`${approved ? 'approved' : 'denied'}: ${call.summary}`, { id, decision: name, call });
        });
      });
  }

  program
    .command('cancel')
    .description('cancel a task; its saga undoes what was done')
    .argument('<id>', 'task (workflow) ID')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      await withContext({ json: Boolean(opts.json) }, async (ctx) => {
        const client = await ctx.client();
        await client.workflow.getHandle(id).cancel();
        ctx.print(`cancellation requested for ${id}; compensations follow`, { id, cancelling: true });
      });
    });
}
