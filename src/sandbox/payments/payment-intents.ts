import type pg from 'pg';
import { invalid, missing, StripeFailure, withDocUrl, type StripeErrorBody } from './errors.js';
import { expand } from './expand.js';
import { LIST_PARAMS, listPage } from './lists.js';
import type { PaymentIntentRow } from './objects.js';
import { bool, expandPaths, int, metadata, onlyKnown, str, type Params } from './params.js';
import { newId, now, type Route } from './route.js';
import { findRow, PAYMENT_INTENTS } from './store.js';
import { TEST_PAYMENT_METHODS, type CardOutcome } from './test-cards.js';

const CREATE_PARAMS = [
  'amount',
  'currency',
  'confirm',
  'customer',
  'payment_method',
  'description',
  'metadata',
  'expand',
  'automatic_payment_methods',
];

/** Checks every parameter before anything is written: a refused request leaves no trace, as at Stripe. */
async function validateCreate(params: Params, client: pg.PoolClient) {
  onlyKnown(params, CREATE_PARAMS);
  const amount = int(params, 'amount');
  if (amount === undefined) throw invalid('Missing required param: amount.', 'amount', 'parameter_missing');
  if (amount < 50) throw invalid('Amount must be at least $0.50 usd', 'amount', 'amount_too_small');
  const rawCurrency = str(params, 'currency');
  if (rawCurrency === undefined)
    throw invalid('Missing required param: currency.', 'currency', 'parameter_missing');
  // Stripe takes any case and answers ISO codes lower-cased.
  const currency = rawCurrency.toLowerCase();
  if (!/^[a-z]{3}$/.test(currency)) throw invalid(`Invalid currency: ${rawCurrency}.`, 'currency');
  const customer = str(params, 'customer') ?? null;
  if (customer !== null) {
    const found = await client.query('SELECT 1 FROM sandbox.customers WHERE id = $1', [customer]);
    if (found.rowCount === 0) throw missing('customer', customer, 'customer', 'param');
  }
  const method = str(params, 'payment_method') ?? null;
  const card: CardOutcome | undefined = method === null ? undefined : TEST_PAYMENT_METHODS[method];
  if (method !== null && !card) throw missing('PaymentMethod', method, 'payment_method', 'param');
  // Accepted and checked as Stripe does (the sandbox charges cards, which never redirect); not echoed.
  const automatic = params.automatic_payment_methods;
  if (automatic !== undefined) {
    const {
      enabled,
      allow_redirects: redirects,
      ...rest
    } = typeof automatic === 'object' && automatic !== null ? (automatic as Record<string, unknown>) : {};
    const unknown = Object.keys(rest)[0];
    if (unknown !== undefined)
      throw invalid(
        `Received unknown parameter: automatic_payment_methods[${unknown}]`,
        `automatic_payment_methods[${unknown}]`,
        'parameter_unknown',
      );
    if (enabled !== 'true' && enabled !== 'false')
      throw invalid(
        'Missing required param: automatic_payment_methods[enabled].',
        'automatic_payment_methods[enabled]',
        'parameter_missing',
      );
    if (redirects !== undefined && redirects !== 'always' && redirects !== 'never')
      throw invalid(
        `Invalid automatic_payment_methods[allow_redirects]: must be one of always or never`,
        'automatic_payment_methods[allow_redirects]',
      );
  }
  const confirm = bool(params, 'confirm') ?? false;
  if (confirm && !card) {
    throw invalid(
      "You cannot confirm this PaymentIntent because it's missing a payment method. To confirm the PaymentIntent with a payment method, pass payment_method.",
      'payment_method',
      'payment_intent_unexpected_state',
    );
  }
  return {
    amount,
    currency,
    customer,
    method,
    card: confirm ? card : undefined,
    description: str(params, 'description') ?? null,
    metadata: metadata(params),
  };
}

async function create(params: Params, client: pg.PoolClient) {
  const v = await validateCreate(params, client);
  const created = String(now());
  const id = newId('pi');
  const chargeId = v.card ? newId('ch') : null;
  const declined = v.card?.outcome === 'declined' ? v.card : undefined;
  const error: StripeErrorBody | null = declined
    ? withDocUrl({
        type: 'card_error',
        code: declined.code,
        decline_code: declined.declineCode,
        message: declined.message,
        charge: chargeId ?? '',
      })
    : null;
  const row: PaymentIntentRow = {
    id,
    amount: v.amount,
    amount_received: v.card && !declined ? v.amount : 0,
    currency: v.currency,
    customer: v.customer,
    // Without a payment method it waits for one; a decline sends it back there.
    status:
      !v.method || declined ? 'requires_payment_method' : v.card ? 'succeeded' : 'requires_confirmation',
    payment_method: declined ? null : v.method,
    description: v.description,
    metadata: v.metadata,
    created,
    client_secret: `${id}_secret_${newId('s').slice(2)}`,
    latest_charge: chargeId,
    last_payment_error: error ? { ...error } : null,
    canceled_at: null,
  };
  await client.query(
    `INSERT INTO sandbox.payment_intents (id, amount, amount_received, currency, customer, status, payment_method,
       description, metadata, created, client_secret, latest_charge, last_payment_error)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)`,
    [
      row.id,
      row.amount,
      row.amount_received,
      row.currency,
      row.customer,
      row.status,
      row.payment_method,
      row.description,
      JSON.stringify(row.metadata),
      row.created,
      row.client_secret,
      row.latest_charge,
      row.last_payment_error === null ? null : JSON.stringify(row.last_payment_error),
    ],
  );
  if (chargeId) {
    await client.query(
      `INSERT INTO sandbox.charges (id, payment_intent, amount, currency, customer, payment_method, description,
         status, failure_code, failure_message, balance_transaction, metadata, created)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)`,
      [
        chargeId,
        id,
        v.amount,
        v.currency,
        v.customer,
        v.method,
        v.description,
        declined ? 'failed' : 'succeeded',
        declined?.code ?? null,
        declined?.message ?? null,
        declined ? null : newId('txn'),
        JSON.stringify(v.metadata),
        created,
      ],
    );
  }
  if (error) {
    // Stripe stores a decline under the key (execution began) and answers it with the intent attached.
    throw new StripeFailure(402, { ...error, payment_intent: PAYMENT_INTENTS.toObject(row) }, true);
  }
  return expand(client, PAYMENT_INTENTS.toObject(row), expandPaths(params));
}

/** `/v1/payment_intents`: create (optionally confirmed), retrieve, list. Search is in payment-intent-search.ts. */
export const paymentIntentRoutes: Route[] = [
  {
    method: 'POST',
    pattern: /^\/v1\/payment_intents$/,
    mutates: true,
    handle: ({ params, client }) => create(params, client),
  },
  {
    method: 'GET',
    pattern: /^\/v1\/payment_intents\/([^/]+)$/,
    mutates: false,
    handle: async ({ params, client, pathId = '' }) => {
      onlyKnown(params, ['expand', 'client_secret']);
      const row = await findRow(client, PAYMENT_INTENTS, pathId);
      // Stripe names the path parameter `intent` in this error.
      if (!row) throw missing('payment_intent', pathId, 'intent', 'path');
      return expand(client, PAYMENT_INTENTS.toObject(row), expandPaths(params));
    },
  },
  {
    method: 'GET',
    pattern: /^\/v1\/payment_intents$/,
    mutates: false,
    handle: async ({ params, client }) => {
      onlyKnown(params, [...LIST_PARAMS, 'customer']);
      const customer = str(params, 'customer');
      return listPage(client, PAYMENT_INTENTS, params, '/v1/payment_intents', {
        where: customer === undefined ? [] : ['t.customer = $1'],
        values: customer === undefined ? [] : [customer],
      });
    },
  },
];
