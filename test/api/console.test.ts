import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import Fastify from 'fastify';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onceflowApi, startApi } from '../../src/api/index.js';
import { auditPayments } from '../../src/sandbox/audit.js';
import { ORDER_TASKS } from '../../examples/order-ops/tasks.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { turnTexts as transcriptTexts } from '../support/transcript.js';
import { agentTask } from './fixtures.js';

const CHROMIUM = '/usr/bin/chromium';
const STREAMED = 'agent-streamed-text';

/** The transcript's text per turn; the history is kept for diagnosis if the query fails. */
async function turnTexts(env: TestEnv, id: string): Promise<string[]> {
  return transcriptTexts(env, id).catch(async (err: unknown) => {
    mkdirSync('test/artifacts', { recursive: true });
    const history = await env.client.workflow.getHandle(id).fetchHistory();
    writeFileSync(`test/artifacts/${id}-history.json`, JSON.stringify(history));
    throw err;
  });
}

/** Fills the console's start form with an agent task's body and submits it; the task's ID. */
async function startFromPage(page: Page, body: { prompt: string; customerId: string; scenario: string }) {
  await page.selectOption('#kind', 'agent');
  await page.fill('[name=prompt]', body.prompt);
  await page.fill('[name=customerId]', body.customerId);
  await page.fill('[name=scenario]', body.scenario);
  const key = await page.inputValue('[name=idempotencyKey]');
  expect(key).toMatch(/^console-[0-9a-f]{16}$/);
  await page.click('#start-form button[type=submit]');
  await expect.poll(() => new URL(page.url()).hash).toBe(`#task=${encodeURIComponent(key)}`);
  return key;
}

const statusOf = (page: Page) => page.textContent('#task-status');

/**
 * The operator console (`GET /console`) in headless Chromium against a real API, worker, Temporal
 * and sandbox: start a task from the form, watch it stream, approve from the page, and the token.
 */
describe('operator console in a browser', () => {
  let env: TestEnv;
  let api: Awaited<ReturnType<typeof startApi>>;
  let browser: Browser;

  beforeAll(async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} missing: apt-get install chromium (.ci/run does)`).toBe(true);
    env = await createTestEnv();
    await env.startWorker();
    api = await startApi({
      tasks: ORDER_TASKS,
      client: env.client,
      pool: env.pool,
      taskQueue: env.taskQueue,
      uiUrl: 'http://ui.test',
      eventsIntervalMs: 100,
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await api?.close();
    await env?.close();
  });

  it('starts a streamed task and shows its text while it runs, then the tool calls and the result', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(`console: ${message.text()}`);
    });
    page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));

    await page.goto(`${api.url}/console`);
    // The kinds come from the OpenAPI document's POST /tasks body.
    await expect
      .poll(() => page.locator('#kind option').allTextContents())
      .toEqual(expect.arrayContaining(['agent', 'order']));

    // The model writes slowly: 40 ms between events, so turn 1 takes seconds.
    env.sandbox.faults.model.set([
      { match: { path: '/v1/messages', scenario: STREAMED }, fault: 'slow_stream', latencyMs: 40, times: 1 },
    ]);
    const { body } = await agentTask(env, STREAMED);
    const key = await startFromPage(page, body);
    await expect.poll(() => page.textContent('#start-result')).toBe(`Started ${key}.`);

    // The first words show while the task still runs.
    const turn1 = page.locator('.turn[data-turn="1"] .text');
    await expect.poll(() => turn1.textContent(), { timeout: 30_000, interval: 20 }).toMatch(/\S/);
    const early = {
      text: (await turn1.textContent()) ?? '',
      status: await statusOf(page),
      turns: await page.locator('.turn').count(),
    };
    const running = await env.client.workflow.getHandle(key).describe();
    expect(running.status.name).toBe('RUNNING');
    expect(early.status).not.toBe('completed');
    expect(early.turns).toBe(1);

    await expect.poll(() => statusOf(page), { timeout: 60_000 }).toBe('completed');
    const truth = await turnTexts(env, key);
    expect(truth).toHaveLength(2);
    // What showed early was a strict beginning of turn 1's text.
    expect(early.text.length).toBeLessThan(truth[0]!.length);
    expect(truth[0]!.startsWith(early.text)).toBe(true);
    // Each turn's text is the transcript's, once (the stream's last words may trail the status).
    await expect.poll(() => page.locator('.turn .text').allTextContents()).toEqual(truth);
    expect(await turn1.textContent()).toBe(truth[0]);
    await expect
      .poll(() => page.textContent('#result .final-text'))
      .toContain('Every word of this answer reached you as it was written');

    // The read shows in the tool calls table and in its turn, with its outcome.
    const lookup = page.locator('#calls tr[data-name="lookup_customer"]');
    expect(await lookup.count()).toBe(1);
    expect(await lookup.locator('.outcome').textContent()).toBe('read');
    expect(await lookup.locator('.outcome').getAttribute('class')).toContain('outcome-read');
    await expect
      .poll(() => page.locator('.turn[data-turn="1"] .uses .tool').textContent())
      .toBe('→ lookup_customer');
    // `end` arrives on the stream independently of the task view's refresh that showed `completed`.
    await expect.poll(() => page.textContent('#live'), { timeout: 15_000 }).toBe('ended');

    // The Web UI link points at the task's run, in a new tab.
    const runId = (await env.client.workflow.getHandle(key).describe()).runId;
    const link = page.locator('#ui-link');
    expect(await link.getAttribute('href')).toBe(
      `http://ui.test/namespaces/${encodeURIComponent(env.namespace)}/workflows/${encodeURIComponent(key)}/${runId}/history`,
    );
    expect(await link.getAttribute('target')).toBe('_blank');

    // The list shows the task (visibility trails by a moment), and the page reloads onto it.
    await page.click('#refresh');
    await page.locator(`#tasks a[data-task="${key}"]`).waitFor({ timeout: 15_000 });
    await page.reload();
    await expect.poll(() => statusOf(page), { timeout: 30_000 }).toBe('completed');
    await expect.poll(() => page.locator('.turn .text').allTextContents()).toEqual(truth);
    await page.locator(`#tasks a.current[data-task="${key}"]`).waitFor({ timeout: 15_000 });
    await expect
      .poll(() => page.textContent('#result .final-text'), { timeout: 15_000 })
      .toContain('none of it twice');
    expect(await link.getAttribute('href')).toContain(encodeURIComponent(key));

    mkdirSync('test/artifacts', { recursive: true });
    await page.screenshot({ path: 'test/artifacts/console.png', fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);

  it('approves a charge from the page; the task completes and the effect shows its key, executed', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(`${api.url}/console`);
    // The charge of 250.00 USD is above the agent's approval limit: it waits for a person.
    const { id, body } = await agentTask(env, 'agent-approval');
    const key = await startFromPage(page, body);

    await page.locator('#approval #approve').waitFor({ state: 'visible', timeout: 30_000 });
    expect(await page.textContent('#approval-tool')).toBe('charge_payment');
    const intentKey = (await page.textContent('#approval-key')) ?? '';
    expect(intentKey).toMatch(/^ik_/);
    expect(await statusOf(page)).toBe('waiting_approval');
    mkdirSync('test/artifacts', { recursive: true });
    await page.screenshot({ path: 'test/artifacts/console-approval.png', fullPage: true });
    await page.click('#approve');
    await expect.poll(() => page.textContent('#approval-state')).toBe('Approved by console.');

    await expect.poll(() => statusOf(page), { timeout: 60_000 }).toBe('completed');
    expect(await page.textContent('#task-id')).toBe(key);
    expect(await env.client.workflow.getHandle(key).result()).toMatchObject({ status: 'completed' });
    const charge = page.locator('#calls tr[data-name="charge_payment"]');
    await expect.poll(() => charge.locator('.outcome').textContent()).toBe('executed');
    expect(await charge.locator('.key').textContent()).toBe(intentKey);
    expect(await page.locator('#calls tr[data-name="create_order"] .outcome').textContent()).toBe('executed');
    // The saga's steps, with the same key.
    await expect.poll(() => page.locator(`#steps tr:has(td.key:text-is("${intentKey}"))`).count()).toBe(1);
    await expect.poll(() => page.textContent('#result .final-text')).toContain('after approval');
    expect((await auditPayments(env.pool, { customer: `cust_${id}` })).customers[0]).toMatchObject({
      charged: 25000,
    });
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);

  it('reconnects after a dropped connection with Last-Event-ID and shows each word once', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const resumedAfter: string[] = [];
    page.on('request', (request) => {
      const last = request.headers()['last-event-id'];
      if (request.url().endsWith('/events') && last) resumedAfter.push(last);
    });
    await page.goto(`${api.url}/console`);
    env.sandbox.faults.model.set([
      { match: { path: '/v1/messages', scenario: STREAMED }, fault: 'slow_stream', latencyMs: 40, times: 1 },
    ]);
    const { body } = await agentTask(env, STREAMED);
    const key = await startFromPage(page, body);
    const turn1 = page.locator('.turn[data-turn="1"] .text');
    await expect.poll(() => turn1.textContent(), { timeout: 30_000, interval: 20 }).toMatch(/\S/);

    // The API drops every connection (a proxy timing out, a deploy): the page follows on from its last event.
    api.app.server.closeAllConnections();
    await expect.poll(() => resumedAfter.length, { timeout: 10_000 }).toBeGreaterThan(0);
    expect(Number(resumedAfter[0])).toBeGreaterThan(0);
    await expect.poll(() => statusOf(page), { timeout: 60_000 }).toBe('completed');
    // The status comes from the task view, the text from the stream: the last words may follow it.
    const truth = await turnTexts(env, key);
    await expect.poll(() => page.locator('.turn .text').allTextContents()).toEqual(truth);
    await page.close();
  }, 120_000);

  it('works mounted under a prefix in the user’s own server: its calls go to the prefix', async () => {
    const server = Fastify({ logger: false });
    await server.register(
      onceflowApi({
        tasks: ORDER_TASKS,
        client: env.client,
        pool: env.pool,
        taskQueue: env.taskQueue,
        uiUrl: 'http://ui.test',
      }),
      { prefix: '/agents' },
    );
    const url = await server.listen({ host: '127.0.0.1', port: 0 });
    const page = await browser.newPage();
    try {
      const calls: string[] = [];
      page.on('request', (request) => calls.push(new URL(request.url()).pathname));
      await page.goto(`${url}/agents/console`);
      await expect
        .poll(() => page.locator('#kind option').allTextContents())
        .toEqual(expect.arrayContaining(['agent', 'order']));
      await page.locator('#tasks a').first().waitFor({ timeout: 15_000 }); // the tasks of the tests above
      expect(calls).toEqual(
        expect.arrayContaining(['/agents/console/console.js', '/agents/docs', '/agents/tasks']),
      );
      expect(calls.filter((path) => !path.startsWith('/agents/'))).toEqual([]);
    } finally {
      await page.close();
      await server.close();
    }
  });

  it('with API_TOKEN: the page is public, says the token is required, and works once it is typed in', async () => {
    const secured = await startApi({
      tasks: ORDER_TASKS,
      client: env.client,
      pool: env.pool,
      taskQueue: env.taskQueue,
      uiUrl: 'http://ui.test',
      eventsIntervalMs: 100,
      apiToken: 's3cret',
    });
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    try {
      // The page and its files need no token; the data routes do; the doc does not list the console.
      const html = await fetch(`${secured.url}/console`);
      expect(html.status).toBe(200);
      expect(html.headers.get('content-type')).toMatch(/^text\/html/);
      expect(html.headers.get('content-security-policy')).toContain("connect-src 'self'");
      const script = await fetch(`${secured.url}/console/console.js`);
      expect(script.status).toBe(200);
      expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
      const nope = await fetch(`${secured.url}/console/nope.js`, {
        headers: { authorization: 'Bearer s3cret' },
      });
      expect(nope.status).toBe(404);
      expect((await fetch(`${secured.url}/tasks`)).status).toBe(401);
      const doc = (await (
        await fetch(`${secured.url}/docs`, { headers: { authorization: 'Bearer s3cret' } })
      ).json()) as { paths: Record<string, unknown> };
      expect(Object.keys(doc.paths).filter((p) => p.includes('console'))).toEqual([]);

      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (err) => errors.push(err.message));
      await page.goto(`${secured.url}/console`);
      await expect.poll(() => page.textContent('#notice')).toContain('401: token required');
      expect(await page.isVisible('#notice')).toBe(true);

      await page.fill('#token', 's3cret');
      await page.click('#token-form button[type=submit]');
      await expect.poll(() => page.isVisible('#notice')).toBe(false);
      await expect
        .poll(() => page.locator('#kind option').allTextContents())
        .toEqual(expect.arrayContaining(['agent', 'order']));
      // The tab keeps the token (sessionStorage) across a reload.
      await page.reload();
      expect(await page.inputValue('#token')).toBe('s3cret');
      await page.locator('#kind option[value="order"]').waitFor({ state: 'attached' });
      expect(await page.isVisible('#notice')).toBe(false);

      // A 400 names its field, next to the field.
      await page.fill('[name=prompt]', '');
      await page.click('#start-form button[type=submit]');
      await expect.poll(() => page.textContent('.field-error[data-for="prompt"]')).toContain('prompt');
      expect(await page.getAttribute('[name=prompt]', 'aria-invalid')).toBe('true');
      expect(await page.textContent('#start-result')).toMatch(/^400 INVALID_REQUEST: .*prompt/);

      // With the token, a task starts and is followed to the end.
      const { body } = await agentTask(env, STREAMED);
      await startFromPage(page, body);
      await expect.poll(() => statusOf(page), { timeout: 60_000 }).toBe('completed');
      expect(await page.locator('#calls tr[data-name="lookup_customer"] .outcome').textContent()).toBe(
        'read',
      );
      expect(errors).toEqual([]);
    } finally {
      await context.close();
      await secured.close();
    }
  }, 120_000);
});
