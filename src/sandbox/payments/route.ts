import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { StripeObject } from './objects.js';
import type { Params } from './params.js';

/** What a route handler gets: the parsed parameters, a client inside the request's transaction, the path id. */
export interface RouteContext {
  params: Params;
  client: pg.PoolClient;
  pathId: string | undefined;
}

/** One endpoint of the payments API. */
export interface Route {
  method: 'GET' | 'POST';
  /** The path; its first capture group, if any, is the object id. */
  pattern: RegExp;
  /** Whether it changes state (drop-after-commit faults apply to these only). */
  mutates: boolean;
  handle: (ctx: RouteContext) => Promise<StripeObject>;
}

/** A Stripe-looking object id: `pi_3xY…`. */
export const newId = (prefix: string): string =>
  `${prefix}_${randomBytes(12).toString('base64url').replace(/[-_]/g, 'x')}`;

/** Seconds since the epoch, Stripe's `created`. */
export const now = (): number => Math.floor(Date.now() / 1000);
