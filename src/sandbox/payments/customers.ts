import { missing } from './errors.js';
import { expand } from './expand.js';
import { LIST_PARAMS, listPage } from './lists.js';
import type { CustomerRow } from './objects.js';
import { expandPaths, metadata, onlyKnown, str } from './params.js';
import { newId, now, type Route } from './route.js';
import { CUSTOMERS, findRow } from './store.js';

/** `/v1/customers`: create, retrieve, list. */
export const customerRoutes: Route[] = [
  {
    method: 'POST',
    pattern: /^\/v1\/customers$/,
    mutates: true,
    handle: async ({ params, client }) => {
      onlyKnown(params, ['email', 'name', 'metadata', 'expand']);
      const row: CustomerRow = {
        id: newId('cus'),
        email: str(params, 'email') ?? null,
        name: str(params, 'name') ?? null,
        metadata: metadata(params),
        created: String(now()),
      };
      await client.query(
        'INSERT INTO sandbox.customers (id, email, name, metadata, created) VALUES ($1,$2,$3,$4,$5)',
        [row.id, row.email, row.name, JSON.stringify(row.metadata), row.created],
      );
      return expand(client, CUSTOMERS.toObject(row), expandPaths(params));
    },
  },
  {
    method: 'GET',
    pattern: /^\/v1\/customers\/([^/]+)$/,
    mutates: false,
    handle: async ({ params, client, pathId = '' }) => {
      onlyKnown(params, ['expand']);
      const row = await findRow(client, CUSTOMERS, pathId);
      // Stripe names the path parameter `id` here (not `customer`).
      if (!row) throw missing('customer', pathId, 'id', 'path');
      return expand(client, CUSTOMERS.toObject(row), expandPaths(params));
    },
  },
  {
    method: 'GET',
    pattern: /^\/v1\/customers$/,
    mutates: false,
    handle: async ({ params, client }) => {
      onlyKnown(params, [...LIST_PARAMS, 'email']);
      const email = str(params, 'email');
      return listPage(client, CUSTOMERS, params, '/v1/customers', {
        where: email === undefined ? [] : ['t.email = $1'],
        values: email === undefined ? [] : [email],
      });
    },
  },
];
