import { randomUUID } from 'node:crypto';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandboxFixture } from './support.js';

describe('payments sandbox lists, search and expand', () => {
  let fx: Awaited<ReturnType<typeof sandboxFixture>>;
  let stripe: Stripe;
  let customer: Stripe.Customer;
  /** Five payment intents of one customer, newest first (Stripe's list order). */
  let ids: string[];
  beforeAll(async () => {
    fx = await sandboxFixture();
    stripe = fx.stripe();
    customer = await stripe.customers.create({ email: `${randomUUID()}@example.com` });
    const created: string[] = [];
    for (let i = 0; i < 5; i++) {
      const pi = await stripe.paymentIntents.create({
        amount: 1000 + i,
        currency: 'usd',
        confirm: true,
        payment_method: 'pm_card_visa',
        customer: customer.id,
      });
      created.push(pi.id);
    }
    ids = created.reverse();
  });
  afterAll(async () => {
    await fx.close();
  });

  it('pages with limit, has_more, starting_after and ending_before', async () => {
    const first = await stripe.paymentIntents.list({ customer: customer.id, limit: 2 });
    expect(first).toMatchObject({ object: 'list', url: '/v1/payment_intents', has_more: true });
    expect(first.data.map((p) => p.id)).toEqual(ids.slice(0, 2));
    const second = await stripe.paymentIntents.list({
      customer: customer.id,
      limit: 2,
      starting_after: first.data[1]!.id,
    });
    expect(second.data.map((p) => p.id)).toEqual(ids.slice(2, 4));
    expect(second.has_more).toBe(true);
    const last = await stripe.paymentIntents.list({
      customer: customer.id,
      limit: 2,
      starting_after: ids[3]!,
    });
    expect(last.data.map((p) => p.id)).toEqual(ids.slice(4));
    expect(last.has_more).toBe(false);
    const before = await stripe.paymentIntents.list({
      customer: customer.id,
      limit: 2,
      ending_before: ids[4]!,
    });
    expect(before.data.map((p) => p.id)).toEqual(ids.slice(2, 4));
    expect(before.has_more).toBe(true);
    const top = await stripe.paymentIntents.list({ customer: customer.id, limit: 2, ending_before: ids[2]! });
    expect(top.data.map((p) => p.id)).toEqual(ids.slice(0, 2));
    expect(top.has_more).toBe(false);
    const all: string[] = [];
    for await (const pi of stripe.paymentIntents.list({ customer: customer.id, limit: 2 })) all.push(pi.id);
    expect(all).toEqual(ids);
  });

  it('defaults to 10 items and bounds limit to 1..100', async () => {
    for (let i = 0; i < 11; i++) await stripe.customers.create({ name: `c${i}` });
    const page = await stripe.customers.list();
    expect(page.data).toHaveLength(10);
    expect(page.has_more).toBe(true);
    for (const limit of [0, 101]) {
      await expect(stripe.paymentIntents.list({ limit })).rejects.toMatchObject({
        statusCode: 400,
        param: 'limit',
      });
    }
    await expect(stripe.paymentIntents.list({ starting_after: 'pi_missing' })).rejects.toMatchObject({
      statusCode: 400,
      code: 'resource_missing',
      param: 'starting_after',
    });
  });

  it('expands latest_charge, and payment_intent and charge on refunds', async () => {
    const pi = await stripe.paymentIntents.retrieve(ids[0]!, { expand: ['latest_charge'] });
    const charge = pi.latest_charge as Stripe.Charge;
    expect(charge).toMatchObject({ object: 'charge', amount: pi.amount, payment_intent: pi.id, paid: true });
    const created = await stripe.paymentIntents.create({
      amount: 700,
      currency: 'eur',
      confirm: true,
      payment_method: 'pm_card_visa',
      expand: ['latest_charge'],
    });
    expect(created.latest_charge).toMatchObject({ object: 'charge', amount: 700, currency: 'eur' });
    const listed = await stripe.paymentIntents.list({
      customer: customer.id,
      limit: 1,
      expand: ['data.latest_charge'],
    });
    expect(listed.data[0]!.latest_charge).toMatchObject({ object: 'charge' });
    const refund = await stripe.refunds.create({
      payment_intent: ids[1]!,
      expand: ['payment_intent', 'charge'],
    });
    expect(refund.payment_intent).toMatchObject({ object: 'payment_intent', id: ids[1] });
    expect(refund.charge).toMatchObject({ object: 'charge', amount_refunded: refund.amount, refunded: true });
    const plain = await stripe.refunds.retrieve(refund.id);
    expect(plain.payment_intent).toBe(ids[1]);
    await expect(
      stripe.paymentIntents.retrieve(ids[0]!, { expand: ['customer.nope'] }),
    ).rejects.toMatchObject({
      statusCode: 400,
      param: 'expand',
    });
  });

  it('searches by metadata with search_result paging', async () => {
    const key = `k_${randomUUID()}`;
    const made: string[] = [];
    for (let i = 0; i < 3; i++) {
      const pi = await stripe.paymentIntents.create({
        amount: 500,
        currency: 'usd',
        confirm: true,
        payment_method: 'pm_card_visa',
        metadata: { onceflow_key: key },
      });
      made.unshift(pi.id);
    }
    const query = `metadata['onceflow_key']:'${key}'`;
    const first = await stripe.paymentIntents.search({ query, limit: 2 });
    expect(first).toMatchObject({
      object: 'search_result',
      has_more: true,
      url: '/v1/payment_intents/search',
    });
    expect(first.data.map((p) => p.id)).toEqual(made.slice(0, 2));
    expect(first.next_page).toEqual(expect.any(String));
    const second = await stripe.paymentIntents.search({ query, limit: 2, page: first.next_page! });
    expect(second.data.map((p) => p.id)).toEqual(made.slice(2));
    expect(second).toMatchObject({ has_more: false, next_page: null });
    const none = await stripe.paymentIntents.search({ query: `metadata['onceflow_key']:'absent'` });
    expect(none.data).toEqual([]);
  });
});
