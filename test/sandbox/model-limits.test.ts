import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyModelError, ModelRequestRejectedError } from '../../src/activities/model.js';
import { sandboxFixture } from './support.js';

const MB = 1000 * 1000;

describe('model sandbox: request size limits as the Messages API has them', () => {
  let fx: Awaited<ReturnType<typeof sandboxFixture>>;
  beforeAll(async () => {
    fx = await sandboxFixture();
  });
  afterAll(async () => {
    await fx.close();
  });

  // The SDK's own retry policy is on here (maxRetries 2): a 413 must not be one it retries.
  const anthropic = () =>
    new Anthropic({ apiKey: 'sk-ant-sandbox', baseURL: fx.sandbox.addresses.model.baseURL, timeout: 60_000 });
  const headers = { 'x-onceflow-scenario': 'two-turn-tool-use' };
  const ask = (text: string) =>
    anthropic().messages.create(
      { model: 'claude-sonnet-4-6', max_tokens: 64, messages: [{ role: 'user', content: text }] },
      { headers },
    );
  async function requestsSeen(): Promise<number> {
    const response = await fetch(new URL('/__admin/stats', fx.sandbox.addresses.model.baseURL));
    return ((await response.json()) as { requests: number }).requests;
  }

  it('answers a 33 MB request with a 413 request_too_large the SDK reports as an APIError, once', async () => {
    const before = await requestsSeen();
    const error: unknown = await ask(`customer_id=cust_big ${'x'.repeat(33 * MB)}`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect(error).not.toBeInstanceOf(Anthropic.APIConnectionError);
    const apiError = error as InstanceType<typeof Anthropic.APIError>;
    expect(apiError.status).toBe(413);
    expect(apiError.error).toMatchObject({ type: 'error', error: { type: 'request_too_large' } });
    // Not retried by the SDK, and terminal for the activity: Temporal will not retry it either.
    expect((await requestsSeen()) - before).toBe(1);
    const classified = classifyModelError(error);
    expect(classified).toBeInstanceOf(ModelRequestRejectedError);
    expect(classified).toMatchObject({ code: 'MODEL_REQUEST_REJECTED', retryable: false });
  }, 120_000);

  it('accepts a 2 MB request (the real API takes up to 32 MB)', async () => {
    const message = await ask(`customer_id=cust_42 ${'y'.repeat(2 * MB)}`);
    expect(message.stop_reason).toBe('tool_use');
  }, 60_000);

  it('keeps the payments sandbox at its own 1 MiB limit, answered with a 413, not a dropped socket', async () => {
    const response = await fetch(new URL('/v1/customers', fx.sandbox.addresses.payments.url), {
      method: 'POST',
      headers: {
        authorization: 'Bearer sk_test_sandbox',
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: `description=${'z'.repeat(2 * 1024 * 1024)}`,
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ error: { type: 'invalid_request_error' } });
  }, 60_000);
});
