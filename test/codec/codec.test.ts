import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildApi, startApi } from '../../src/api/index.js';
import { AesGcmCodec, codecFromEnv } from '../../src/codec/aes-gcm.js';
import { findTemporalCli } from '../../src/dev/temporal-cli.js';
import { agentWorkflow } from '../../examples/order-ops/workflows.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { ORDER_TASKS } from '../../examples/order-ops/tasks.js';

const key = () => randomBytes(32);
const run = promisify(execFile);
// The official CLI, found as the dev server's binary is (TEMPORAL_CLI, PATH, the onceflow cache):
// the suite's dev server runs from it, so it is always there when the suite runs.
const temporalCli = (() => {
  const found = findTemporalCli();
  if (found?.kind !== 'path') throw new Error('no temporal CLI found: run `npm run setup` first');
  return found.path;
})();

describe('AES-256-GCM payload codec', () => {
  it('round-trips payloads and marks them encrypted with the key id', async () => {
    const codec = new AesGcmCodec(new Map([['k1', key()]]), 'k1');
    const payload = defaultPayloadConverter.toPayload({ prompt: 'secret customer data' });
    const [encrypted] = await codec.encode([payload]);
    expect(new TextDecoder().decode(encrypted?.metadata?.encoding)).toBe('binary/encrypted');
    expect(new TextDecoder().decode(encrypted?.metadata?.['encryption-key-id'])).toBe('k1');
    expect(Buffer.from(encrypted!.data!).toString('latin1')).not.toContain('secret');
    const [decoded] = await codec.decode([encrypted!]);
    expect(defaultPayloadConverter.fromPayload(decoded!)).toEqual({ prompt: 'secret customer data' });
  });

  it('decodes with an older key after rotation, and refuses tampered data', async () => {
    const k1 = key();
    const old = new AesGcmCodec(new Map([['k1', k1]]), 'k1');
    const [sealed] = await old.encode([defaultPayloadConverter.toPayload('hello')]);
    const rotated = codecFromEnv({
      ONCEFLOW_CODEC_KEY: `k2:${key().toString('base64')},k1:${k1.toString('base64')}`,
    })!;
    expect(defaultPayloadConverter.fromPayload((await rotated.decode([sealed!]))[0]!)).toBe('hello');
    const tampered = { ...sealed!, data: Buffer.from(sealed!.data!).fill(1, 20, 21) };
    await expect(rotated.decode([tampered])).rejects.toThrow();
    expect(() => codecFromEnv({ ONCEFLOW_CODEC_KEY: Buffer.alloc(16).toString('base64') })).toThrow(
      /32 bytes/,
    );
  });

  describe('on a real worker and dev server', () => {
    let env: TestEnv;
    const codec = new AesGcmCodec(new Map([['k1', key()]]), 'k1');
    beforeAll(async () => {
      env = await createTestEnv();
      await env.startWorker({ dataConverter: { payloadCodecs: [codec] } });
    });
    afterAll(async () => {
      await env.close();
    });

    it('keeps prompts out of Temporal in plaintext; the codec server decodes them for the UI', async () => {
      const id = randomUUID().slice(0, 8);
      await env.pool.query('INSERT INTO customers (customer_id, name, email) VALUES ($1, $2, $3)', [
        `cust_${id}`,
        'Codec',
        `codec-${id}@example.com`,
      ]);
      const prompt = `Top secret order for customer_id=cust_${id} email=codec-${id}@example.com as order_id=ord_${id}.`;
      const client = new Client({
        connection: env.client.connection,
        namespace: env.namespace,
        dataConverter: { payloadCodecs: [codec] },
      });
      const workflowId = `codec-${id}`;
      const result = await client.workflow.execute(agentWorkflow, {
        taskQueue: env.taskQueue,
        workflowId,
        args: [{ prompt, scenario: 'agent-happy-path' }],
      });
      expect(result.status).toBe('completed');

      const { history } = await env.client.workflowService.getWorkflowExecutionHistory({
        namespace: env.namespace,
        execution: { workflowId },
      });
      const raw = JSON.stringify(history);
      expect(raw).not.toContain('Top secret');
      const input = history?.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
      expect(new TextDecoder().decode(input?.metadata?.encoding ?? undefined)).toBe('binary/encrypted');

      const api = await buildApi({
        tasks: ORDER_TASKS,
        client: env.client,
        pool: env.pool,
        taskQueue: env.taskQueue,
        uiUrl: 'http://ui.test',
        codec,
        corsOrigin: 'http://ui.test',
        apiToken: 'tok',
      });
      const body = {
        payloads: [
          {
            metadata: Object.fromEntries(
              Object.entries(input?.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
            ),
            data: Buffer.from(input?.data ?? new Uint8Array()).toString('base64'),
          },
        ],
      };
      const preflight = await api.inject({ method: 'OPTIONS', url: '/codec/decode' });
      expect(preflight.statusCode).toBe(204);
      expect(preflight.headers['access-control-allow-origin']).toBe('http://ui.test');
      expect((await api.inject({ method: 'POST', url: '/codec/decode', payload: body })).statusCode).toBe(
        401,
      );
      const decoded = await api.inject({
        method: 'POST',
        url: '/codec/decode',
        payload: body,
        headers: { authorization: 'Bearer tok' },
      });
      expect(decoded.statusCode).toBe(200);
      const out = decoded.json<{ payloads: { data: string }[] }>().payloads[0];
      expect(Buffer.from(out?.data ?? '', 'base64').toString()).toContain('Top secret');
      await api.close();
    });

    it('serves the official temporal CLI: a query without arguments and workflow show come back decoded', async () => {
      const id = randomUUID().slice(0, 8);
      const client = new Client({
        connection: env.client.connection,
        namespace: env.namespace,
        dataConverter: { payloadCodecs: [codec] },
      });
      const workflowId = `codec-cli-${id}`;
      await client.workflow.execute(agentWorkflow, {
        taskQueue: env.taskQueue,
        workflowId,
        args: [{ prompt: `Classified request ${id}: just say hello.`, scenario: 'agent-happy-path' }],
      });
      const api = await startApi({
        tasks: ORDER_TASKS,
        client: env.client,
        pool: env.pool,
        taskQueue: env.taskQueue,
        uiUrl: 'http://ui.test',
        codec,
        apiToken: 'tok',
      });
      const temporal = (...args: string[]) =>
        run(
          temporalCli,
          [
            ...args,
            '--workflow-id',
            workflowId,
            '--codec-endpoint',
            `${api.url}/codec`,
            '--codec-auth',
            'Bearer tok',
            '--address',
            inject('temporalAddress'),
            '--namespace',
            env.namespace,
            '--output',
            'json',
          ],
          { timeout: 30_000 },
        );
      try {
        const query = await temporal('workflow', 'query', '--type', 'agentStatus');
        expect(JSON.parse(query.stdout)).toMatchObject({
          queryResult: [{ status: 'completed', pendingApproval: null }],
        });
        const show = await temporal('workflow', 'show');
        type JsonPayload = { metadata: Record<string, string>; data: string };
        const history = JSON.parse(show.stdout) as {
          events: { workflowExecutionStartedEventAttributes?: { input: { payloads: JsonPayload[] } } }[];
        };
        const input = history.events[0]?.workflowExecutionStartedEventAttributes?.input.payloads[0];
        const text = (b64: string | undefined) => Buffer.from(b64 ?? '', 'base64').toString();
        expect(text(input?.metadata.encoding)).toBe('json/plain');
        expect(text(input?.data)).toContain(`Classified request ${id}`);
      } finally {
        await api.close();
      }
    });
  });
});
