import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { describe, expect, inject, it } from 'vitest';

const DIR = join(import.meta.dirname, '..', 'fixtures', 'histories');
const files = readdirSync(DIR).filter((f) => f.endsWith('.json'));

describe('replay regression: recorded histories replay against the current workflow code', () => {
  // release-0.1-*: recorded by the previous release (whole transcript in every model call, a search
  // attribute upsert on every saga notification); workflows it started must still replay after an upgrade.
  // regular-steps-*: recorded before tools ran as local activities by default (every tool call an
  // activity task); they replay through the `onceflow-local-execution` patch.
  // per-site-patches-*: recorded before runs recorded one patch at start (`startPatches`): they ask
  // each onceflow patch where its change is.
  // support-mcp-*: an agent with MCP tools, listed in its first run, carried by continue-as-new, and a
  // ticket undone through another MCP tool in the last run.
  it('has the representative histories (happy path, compensation, approval, continue-as-new, reset, MCP)', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'order-happy-path.json',
        'order-compensation.json',
        'agent-approval.json',
        'agent-continue-as-new-first-run.json',
        'agent-after-reset.json',
        'agent-reset-past-undo.json',
        'release-0.1-agent-approval.json',
        'release-0.1-agent-continue-as-new-last-run.json',
        'release-0.1-order-happy-path.json',
        'regular-steps-order-compensation.json',
        'regular-steps-agent-approval.json',
        'regular-steps-agent-reset-past-undo.json',
        'per-site-patches-order-happy-path.json',
        'per-site-patches-agent-approval.json',
        'per-site-patches-agent-continue-as-new-last-run.json',
        'support-mcp-first-run.json',
        'support-mcp-last-run.json',
      ]),
    );
  });

  it.each(files)('replays %s without a determinism violation', async (file) => {
    const { workflowId, history } = JSON.parse(readFileSync(join(DIR, file), 'utf8')) as {
      workflowId: string;
      history: unknown;
    };
    const workflowBundle = { code: readFileSync(inject('workflowBundlePath'), 'utf8') };
    await expect(Worker.runReplayHistory({ workflowBundle }, history, workflowId)).resolves.toBeUndefined();
  });
});
