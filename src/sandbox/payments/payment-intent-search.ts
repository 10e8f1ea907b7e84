import { invalid } from './errors.js';
import { expandList } from './expand.js';
import { limitOf } from './lists.js';
import type { PaymentIntentRow, StripeObject } from './objects.js';
import { expandPaths, onlyKnown, str } from './params.js';
import type { Route } from './route.js';
import { PAYMENT_INTENTS } from './store.js';

const URL_PATH = '/v1/payment_intents/search';

/**
 * The part of Stripe's search query language the sandbox understands: clauses joined by `AND`, each
 * `metadata['key']:'value'` or `status|currency|customer:'value'` (exact match).
 */
function parseQuery(query: string): { where: string[]; values: unknown[] } {
  const where: string[] = [];
  const values: unknown[] = [];
  for (const clause of query.split(/\s+AND\s+/)) {
    const meta = /^metadata\[['"]([^'"]+)['"]\]:['"]([^'"]*)['"]$/.exec(clause.trim());
    const field = /^(status|currency|customer):['"]([^'"]*)['"]$/.exec(clause.trim());
    if (meta) {
      values.push(meta[1], meta[2]);
      where.push(`t.metadata ->> $${values.length - 1} = $${values.length}`);
    } else if (field) {
      values.push(field[2]);
      where.push(`t.${field[1]} = $${values.length}`);
    } else {
      throw invalid(
        `Unsupported search query (the sandbox supports metadata['key']:'value', status:, currency:, customer: joined by AND): ${query}`,
        'query',
      );
    }
  }
  return { where, values };
}

/** `next_page` is opaque to clients; here it carries the `seq` to continue below. */
const encodePage = (seq: string) => Buffer.from(`seq:${seq}`).toString('base64url');
function decodePage(page: string): string {
  const m = /^seq:(\d+)$/.exec(Buffer.from(page, 'base64url').toString('utf8'));
  if (!m?.[1]) throw invalid(`Invalid page: ${page}`, 'page');
  return m[1];
}

/** `GET /v1/payment_intents/search`: a `search_result`, newest first, paged by `page`/`next_page`. */
export const paymentIntentSearchRoute: Route = {
  method: 'GET',
  pattern: /^\/v1\/payment_intents\/search$/,
  mutates: false,
  handle: async ({ params, client }) => {
    onlyKnown(params, ['query', 'limit', 'page', 'expand']);
    const query = str(params, 'query');
    if (!query) throw invalid('Missing required param: query.', 'query', 'parameter_missing');
    const limit = limitOf(params);
    const { where, values } = parseQuery(query);
    const page = str(params, 'page');
    if (page !== undefined) {
      values.push(decodePage(page));
      where.push(`t.seq < $${values.length}`);
    }
    const { rows } = await client.query<PaymentIntentRow & { seq: string }>(
      `SELECT ${PAYMENT_INTENTS.select} FROM ${PAYMENT_INTENTS.from} WHERE ${where.join(' AND ')}
        ORDER BY t.seq DESC LIMIT ${limit + 1}`,
      values,
    );
    const items = rows.slice(0, limit);
    const hasMore = rows.length > limit;
    const result: StripeObject = {
      object: 'search_result',
      data: await expandList(client, items.map(PAYMENT_INTENTS.toObject), expandPaths(params)),
      has_more: hasMore,
      next_page: hasMore ? encodePage(items[items.length - 1]!.seq) : null,
      url: URL_PATH,
    };
    return result;
  },
};
