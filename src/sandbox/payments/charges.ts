import { missing } from './errors.js';
import { expand } from './expand.js';
import { LIST_PARAMS, listPage } from './lists.js';
import { expandPaths, onlyKnown, str } from './params.js';
import type { Route } from './route.js';
import { CHARGES, findRow } from './store.js';

/** `/v1/charges`, read-only: the sandbox creates charges only by confirming payment intents. */
export const chargeRoutes: Route[] = [
  {
    method: 'GET',
    pattern: /^\/v1\/charges\/([^/]+)$/,
    mutates: false,
    handle: async ({ params, client, pathId = '' }) => {
      onlyKnown(params, ['expand']);
      const row = await findRow(client, CHARGES, pathId);
      if (!row) throw missing('charge', pathId, 'id', 'path');
      return expand(client, CHARGES.toObject(row), expandPaths(params));
    },
  },
  {
    method: 'GET',
    pattern: /^\/v1\/charges$/,
    mutates: false,
    handle: async ({ params, client }) => {
      onlyKnown(params, [...LIST_PARAMS, 'customer', 'payment_intent']);
      const where: string[] = [];
      const values: unknown[] = [];
      for (const name of ['customer', 'payment_intent'] as const) {
        const value = str(params, name);
        if (value === undefined) continue;
        values.push(value);
        where.push(`t.${name} = $${values.length}`);
      }
      return listPage(client, CHARGES, params, '/v1/charges', { where, values });
    },
  },
];
