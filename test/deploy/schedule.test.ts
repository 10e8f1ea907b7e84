import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { ensurePruneSchedule, PRUNE_SCHEDULE_ID } from '../../src/schedules.js';
import { createTestEnv, type TestEnv } from '../support/env.js';

describe('scheduled ledger pruning', () => {
  let env: TestEnv;
  // Its own ID: worker processes started by other tests create the default one on this server.
  const scheduleId = `${PRUNE_SCHEDULE_ID}-${randomUUID().slice(0, 8)}`;
  beforeAll(async () => {
    env = await createTestEnv();
    await env.startWorker();
  });
  afterAll(async () => {
    await env.client.schedule
      .getHandle(PRUNE_SCHEDULE_ID)
      .delete()
      .catch(() => undefined);
    await env.close();
  });

  it('creates the Schedule exactly once across restarts, and a run prunes only expired rows', async () => {
    const options = { taskQueue: env.taskQueue, retentionDays: 30, maxTaskDays: 7, scheduleId };
    expect(await ensurePruneSchedule(env.client, options)).toBe('created');
    expect(await ensurePruneSchedule(env.client, options)).toBe('exists'); // a second start, a second worker
    // The raw listing: other tests' schedules may carry payloads encrypted with a codec this client
    // does not have, which the SDK's decoding list would fail on.
    const schedules: string[] = [];
    let nextPageToken: Uint8Array | undefined;
    do {
      const page = await env.client.workflowService.listSchedules({
        namespace: env.namespace,
        maximumPageSize: 1000,
        ...(nextPageToken ? { nextPageToken } : {}),
      });
      schedules.push(...(page.schedules ?? []).map((s) => s.scheduleId ?? ''));
      nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
    } while (nextPageToken);
    expect(schedules.filter((id) => id === scheduleId)).toHaveLength(1);

    const scope = `prune-${randomUUID()}`;
    const insert = (key: string, expiresIn: string) =>
      env.pool.query(
        `INSERT INTO idempotency_ledger (key, scope, operation, fingerprint, status, created_at, expires_at)
         VALUES ($1, $2, 'test', 'fp', 'succeeded', now() - interval '40 days', now() + $3::interval)`,
        [key, scope, expiresIn],
      );
    await insert(`${scope}-old`, '-10 days');
    await insert(`${scope}-fresh`, '20 days');
    for (const [suffix, age] of [
      ['old', '40 days'],
      ['fresh', '1 day'],
    ])
      await env.pool.query(
        `INSERT INTO transcript_messages (conversation_id, seq, encoding, body, updated_at)
         VALUES ($1, 0, 'json', '{}', now() - $2::interval)`,
        [`${scope}/${suffix}`, age],
      );

    const handle = env.client.schedule.getHandle(scheduleId);
    await handle.trigger();
    // The run prunes the ledger, then the transcripts: wait for both.
    let remaining: string[] = [];
    let transcripts: string[] = [];
    for (let i = 0; i < 100; i++) {
      const ledgerRows = await env.pool.query<{ key: string }>(
        'SELECT key FROM idempotency_ledger WHERE scope = $1',
        [scope],
      );
      const transcriptRows = await env.pool.query<{ conversation_id: string }>(
        'SELECT conversation_id FROM transcript_messages WHERE conversation_id LIKE $1',
        [`${scope}/%`],
      );
      remaining = ledgerRows.rows.map((r) => r.key);
      transcripts = transcriptRows.rows.map((r) => r.conversation_id);
      if (remaining.length === 1 && transcripts.length === 1) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(remaining).toEqual([`${scope}-fresh`]);
    expect(transcripts).toEqual([`${scope}/fresh`]);
    const description = await handle.describe();
    expect(description.info.recentActions.length).toBeGreaterThanOrEqual(1);
  });

  it('refuses a retention that does not outlive the longest task', async () => {
    await expect(
      ensurePruneSchedule(env.client, { taskQueue: env.taskQueue, retentionDays: 7, maxTaskDays: 7 }),
    ).rejects.toBeInstanceOf(ConfigError);
  });
});
