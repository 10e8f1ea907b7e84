import { chargeRoutes } from './charges.js';
import { customerRoutes } from './customers.js';
import { paymentIntentSearchRoute } from './payment-intent-search.js';
import { paymentIntentRoutes } from './payment-intents.js';
import { refundRoutes } from './refunds.js';
import type { Route } from './route.js';

/** Every endpoint of the payments sandbox. Search comes before `/:intent`, which would match it. */
export const PAYMENT_ROUTES: readonly Route[] = [
  ...customerRoutes,
  paymentIntentSearchRoute,
  ...paymentIntentRoutes,
  ...refundRoutes,
  ...chargeRoutes,
];
