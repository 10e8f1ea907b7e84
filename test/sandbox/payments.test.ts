import { randomUUID } from 'node:crypto';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditPayments } from '../../src/sandbox/audit.js';
import { sandboxFixture } from './support.js';

describe('payments sandbox through the official stripe SDK', () => {
  let fx: Awaited<ReturnType<typeof sandboxFixture>>;
  let stripe: Stripe;
  beforeAll(async () => {
    fx = await sandboxFixture();
    stripe = fx.stripe();
  });
  afterAll(async () => {
    await fx.close();
  });

  const customerTag = () => `cust_${randomUUID().slice(0, 8)}`;
  const charge = (
    customer: string,
    amount = 4999,
    extra: Partial<Stripe.PaymentIntentCreateParams> = {},
  ) => ({
    amount,
    currency: 'usd',
    confirm: true,
    payment_method: 'pm_card_visa',
    metadata: { customer_id: customer, order_id: `ord_${customer}` },
    ...extra,
  });
  const truth = async (customer: string) => (await auditPayments(fx.pool, { customer })).customers[0];

  it('creates customers, charges, lists and refunds, in minor units', async () => {
    const customer = await stripe.customers.create({ email: 'ada@example.com', name: 'Ada' });
    expect(customer.id).toMatch(/^cus_/);
    expect((await stripe.customers.retrieve(customer.id)) as Stripe.Customer).toMatchObject({
      email: 'ada@example.com',
    });
    const pi = await stripe.paymentIntents.create({ ...charge('x'), customer: customer.id, metadata: {} });
    expect(pi).toMatchObject({
      object: 'payment_intent',
      status: 'succeeded',
      amount: 4999,
      amount_received: 4999,
    });
    expect((await stripe.paymentIntents.retrieve(pi.id)).id).toBe(pi.id);
    expect((await stripe.paymentIntents.list({ customer: customer.id })).data.map((p) => p.id)).toEqual([
      pi.id,
    ]);
    const partial = await stripe.refunds.create({ payment_intent: pi.id, amount: 999 });
    expect(partial).toMatchObject({ object: 'refund', amount: 999, status: 'succeeded' });
    const rest = await stripe.refunds.create({ payment_intent: pi.id });
    expect(rest.amount).toBe(4000);
    expect((await stripe.refunds.list({ payment_intent: pi.id })).data).toHaveLength(2);
    expect(await truth(customer.id)).toEqual({
      customer: customer.id,
      charges: 1,
      charged: 4999,
      refunds: 2,
      refunded: 4999,
      net: 0,
    });
  });

  it('never refunds more than was charged, with errors shaped like Stripe’s', async () => {
    const pi = await stripe.paymentIntents.create(charge(customerTag(), 1000));
    const tooMuch = await stripe.refunds
      .create({ payment_intent: pi.id, amount: 1001 })
      .catch((e: unknown) => e);
    expect(tooMuch).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(tooMuch).toMatchObject({ statusCode: 400, code: 'amount_too_large', param: 'amount' });
    await stripe.refunds.create({ payment_intent: pi.id });
    const again = await stripe.refunds.create({ payment_intent: pi.id }).catch((e: unknown) => e);
    expect(again).toMatchObject({ statusCode: 400, code: 'charge_already_refunded' });
  });

  it('declines pm_card_chargeDeclined with a card_error and no charge', async () => {
    const customer = customerTag();
    const error = await stripe.paymentIntents
      .create(charge(customer, 4999, { payment_method: 'pm_card_chargeDeclined' }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect(error).toMatchObject({ statusCode: 402, code: 'card_declined', decline_code: 'generic_decline' });
    expect(await truth(customer)).toBeUndefined();
  });

  it('rejects bad input with Stripe’s error shape: invalid params, unknown ids, missing auth', async () => {
    await expect(
      stripe.paymentIntents.create({ ...charge(customerTag()), amount: 10 }),
    ).rejects.toMatchObject({
      type: 'StripeInvalidRequestError',
      statusCode: 400,
      code: 'amount_too_small',
    });
    await expect(stripe.paymentIntents.retrieve('pi_missing')).rejects.toMatchObject({
      statusCode: 404,
      code: 'resource_missing',
    });
    const url = fx.sandbox.addresses.payments.url;
    const noAuth = await fetch(`${url}/v1/payment_intents`, { method: 'POST', body: 'amount=100' });
    expect(noAuth.status).toBe(401);
    expect(await noAuth.json()).toMatchObject({ error: { type: 'invalid_request_error' } });
    const unknown = await fetch(`${url}/v1/teleports`, { headers: { authorization: 'Bearer sk_test_x' } });
    expect(unknown.status).toBe(404);
    const wrongMethod = await fetch(`${url}/v1/refunds`, {
      method: 'DELETE',
      headers: { authorization: 'Bearer sk_test_x' },
    });
    expect(wrongMethod.status).toBe(405);
    expect(await wrongMethod.json()).toMatchObject({
      error: { message: expect.stringContaining('Unrecognized') as unknown },
    });
  });

  it('replays the first response for a key: one charge, the identical response', async () => {
    const customer = customerTag();
    const key = `ik_${randomUUID()}`;
    const first = await stripe.paymentIntents.create(charge(customer), { idempotencyKey: key });
    const second = await stripe.paymentIntents.create(charge(customer), { idempotencyKey: key });
    expect(second).toEqual(first);
    expect(second.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect(await truth(customer)).toMatchObject({ charges: 1 });
  });

  it('replays a saved decline under its key, and does not save a validation failure', async () => {
    const customer = customerTag();
    const key = `ik_${randomUUID()}`;
    const declined = charge(customer, 4999, { payment_method: 'pm_card_chargeDeclined' });
    const a = await stripe.paymentIntents.create(declined, { idempotencyKey: key }).catch((e: unknown) => e);
    const b = await stripe.paymentIntents.create(declined, { idempotencyKey: key }).catch((e: unknown) => e);
    expect(a).toMatchObject({ code: 'card_declined' });
    expect(b).toMatchObject({ code: 'card_declined' });
    const key2 = `ik_${randomUUID()}`;
    await expect(
      stripe.paymentIntents.create({ ...charge(customer), amount: 1 }, { idempotencyKey: key2 }),
    ).rejects.toMatchObject({
      statusCode: 400,
    });
    // The corrected request may reuse the key: the invalid one was never saved.
    const ok = await stripe.paymentIntents.create(
      { ...charge(customer), amount: 1 + 99 },
      { idempotencyKey: key2 },
    );
    expect(ok.status).toBe('succeeded');
  });

  it('answers the same key with other parameters with idempotency_error', async () => {
    const customer = customerTag();
    const key = `ik_${randomUUID()}`;
    await stripe.paymentIntents.create(charge(customer, 4999), { idempotencyKey: key });
    const error = await stripe.paymentIntents
      .create(charge(customer, 5999), { idempotencyKey: key })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect(error).toMatchObject({ statusCode: 400 });
    expect(await truth(customer)).toMatchObject({ charges: 1, charged: 4999 });
  });

  it('answers a concurrent request with a key in use with 409, once', async () => {
    const customer = customerTag();
    const key = `ik_${randomUUID()}`;
    fx.sandbox.faults.payments.set([{ match: { idempotencyKey: key }, fault: 'latency', latencyMs: 800 }]);
    const first = stripe.paymentIntents.create(charge(customer), { idempotencyKey: key });
    await new Promise((r) => setTimeout(r, 150));
    const second = await stripe.paymentIntents
      .create(charge(customer), { idempotencyKey: key })
      .catch((e: unknown) => e);
    expect(second).toMatchObject({ statusCode: 409, code: 'idempotency_key_in_use' });
    // A rejected duplicate must not free the key of the request still in flight (found by a chaos run).
    const third = await stripe.paymentIntents
      .create(charge(customer), { idempotencyKey: key })
      .catch((e: unknown) => e);
    expect(third).toMatchObject({ statusCode: 409 });
    expect((await first).status).toBe('succeeded');
    expect(await truth(customer)).toMatchObject({ charges: 1 });
  });

  // The SDK retries a closed connection once by itself (with its own key), so the fault drops twice.
  const dropTwice = [
    { match: { method: 'POST', path: '/v1/payment_intents' }, fault: 'drop_after_commit' as const, times: 2 },
  ];

  it('with drop-after-commit, a retry without a key charges twice and a retry with the same key once', async () => {
    const noKey = customerTag();
    fx.sandbox.faults.payments.set(dropTwice);
    await expect(stripe.paymentIntents.create(charge(noKey))).rejects.toBeInstanceOf(
      Stripe.errors.StripeConnectionError,
    );
    await stripe.paymentIntents.create(charge(noKey)); // the application retries, with no key
    expect(await truth(noKey)).toMatchObject({ charges: 2, charged: 9998 });

    const withKey = customerTag();
    const key = `ik_${randomUUID()}`;
    fx.sandbox.faults.payments.set(dropTwice);
    await expect(
      stripe.paymentIntents.create(charge(withKey), { idempotencyKey: key }),
    ).rejects.toBeInstanceOf(Stripe.errors.StripeConnectionError);
    const retried = await stripe.paymentIntents.create(charge(withKey), { idempotencyKey: key });
    expect(retried.status).toBe('succeeded');
    expect(await truth(withKey)).toMatchObject({ charges: 1, charged: 4999 });
  });

  it('fails before commit with a 500 that leaves nothing charged and the key free', async () => {
    const customer = customerTag();
    const key = `ik_${randomUUID()}`;
    fx.sandbox.faults.payments.set([{ match: { idempotencyKey: key }, fault: 'fail_before_commit' }]);
    await expect(
      stripe.paymentIntents.create(charge(customer), { idempotencyKey: key }),
    ).rejects.toMatchObject({
      statusCode: 500,
    });
    expect(await truth(customer)).toBeUndefined();
    await stripe.paymentIntents.create(charge(customer), { idempotencyKey: key });
    expect(await truth(customer)).toMatchObject({ charges: 1 });
  });

  it('rejects a bad fault-injection setting with a clear 400', async () => {
    const response = await fetch(`${fx.sandbox.addresses.payments.url}/__admin/faults`, {
      method: 'POST',
      body: JSON.stringify({ rules: [{ fault: 'explode' }] }),
    });
    expect(response.status).toBe(400);
    expect(JSON.stringify(await response.json())).toContain('fault must be one of');
  });
});
