import type pg from 'pg';
import { invalid } from './errors.js';
import type { StripeObject } from './objects.js';
import { CHARGES, CUSTOMERS, findRow, PAYMENT_INTENTS, type Kind } from './store.js';

type AnyKind = Kind<never>;

/** Which fields of each object hold an id Stripe can expand, and what they expand to. */
const EXPANDABLE: Record<string, Record<string, AnyKind>> = {
  payment_intent: { latest_charge: CHARGES, customer: CUSTOMERS },
  refund: { payment_intent: PAYMENT_INTENTS, charge: CHARGES },
  charge: { payment_intent: PAYMENT_INTENTS, customer: CUSTOMERS },
  customer: {},
};

/**
 * Replaces the ids named by `paths` (`latest_charge`, `payment_intent.customer`, …) with the objects,
 * as Stripe's `expand[]` does. A path that cannot be expanded is refused, as at Stripe.
 */
export async function expand(
  client: pg.PoolClient,
  object: StripeObject,
  paths: readonly string[],
): Promise<StripeObject> {
  if (paths.length === 0) return object;
  const out = { ...object };
  const byField = new Map<string, string[]>();
  for (const path of paths) {
    const [field = '', ...rest] = path.split('.');
    const nested = byField.get(field) ?? [];
    if (rest.length > 0) nested.push(rest.join('.'));
    byField.set(field, nested);
  }
  for (const [field, nested] of byField) {
    const target = EXPANDABLE[String(object.object)]?.[field];
    if (!target) throw invalid(`This property cannot be expanded (${field}).`, 'expand');
    const id = out[field];
    if (typeof id !== 'string') continue; // null stays null
    const row = await findRow(client, target, id);
    if (row) out[field] = await expand(client, target.toObject(row), nested);
  }
  return out;
}

/** `expand[]` on a list: each path must start with `data.`, the rest applies to every item. */
export async function expandList(
  client: pg.PoolClient,
  items: StripeObject[],
  paths: readonly string[],
): Promise<StripeObject[]> {
  const inner = paths.map((path) => {
    if (!path.startsWith('data.')) throw invalid(`This property cannot be expanded (${path}).`, 'expand');
    return path.slice('data.'.length);
  });
  const out: StripeObject[] = [];
  for (const item of items) out.push(await expand(client, item, inner));
  return out;
}
