import type { Client } from '@temporalio/client';
import { agentStatusQuery, sagaStateQuery, toolCallsQuery } from '../workflows/index.js';
import type { StreamEventInput } from './events.js';
import type { TaskStream } from './store.js';

const COMPENSATING = new Set(['compensating', 'compensated', 'compensation_failed']);

/**
 * Publishes what a watcher learns from the task's queries and description: status, tool calls and
 * results (when no streamed turn published them), approvals, compensation steps, and the end of its
 * run. Each under a dedupe name, so several API processes watching one task publish each fact once.
 * Returns true when the task's latest run has closed (and `end` is published).
 */
export async function observeTask(client: Client, taskId: string, stream: TaskStream): Promise<boolean> {
  const handle = client.workflow.getHandle(taskId);
  const description = await handle.describe().catch(() => undefined);
  if (!description) return false;
  const runId = description.runId;
  const [status, calls, saga] = await Promise.all([
    handle.query(agentStatusQuery).catch(() => undefined),
    handle.query(toolCallsQuery).catch(() => undefined),
    handle.query(sagaStateQuery).catch(() => undefined),
  ]);
  const events: StreamEventInput[] = [];
  for (const call of calls ?? []) {
    events.push({
      kind: 'tool_result',
      data: {
        turn: call.turn,
        toolUseId: call.toolUseId,
        name: call.name,
        outcome: call.outcome,
        ...(call.key ? { key: call.key } : {}),
        ...(call.error ? { error: call.error } : {}),
      },
      dedupe: `tool_result:${call.toolUseId}`,
    });
  }
  if (status?.pendingApproval) {
    const p = status.pendingApproval;
    events.push({
      kind: 'approval_waiting',
      data: { toolUseId: p.toolUseId, tool: p.tool, summary: p.summary, reason: p.reason, key: p.key },
      dedupe: `approval:${runId}:${p.toolUseId}:${p.key ?? ''}`,
    });
  }
  const shown = status?.status ?? saga?.status;
  if (shown) {
    events.push({
      kind: 'status',
      data: { status: shown, runId, ...(status ? { turn: status.turn } : {}) },
      dedupe: `status:${runId}:${status?.turn ?? ''}:${shown}`,
    });
  }
  if (saga && COMPENSATING.has(saga.status)) {
    for (const step of saga.steps) {
      events.push({
        kind: 'compensation',
        data: {
          sagaStatus: saga.status,
          step: step.name,
          key: step.key,
          status: step.status,
          undo: step.undo,
          ...(step.error ? { error: step.error } : {}),
        },
        dedupe: `compensation:${runId}:${step.name}:${step.key ?? ''}:${step.status}`,
      });
    }
  }
  const closed = description.status.name !== 'RUNNING' && description.status.name !== 'CONTINUED_AS_NEW';
  if (closed)
    events.push({ kind: 'end', data: { status: description.status.name, runId }, dedupe: `end:${runId}` });
  await stream.publish(taskId, events);
  return closed;
}
