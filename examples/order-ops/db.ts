/** The order example's own tables (`customers`, `orders`, `shipments`), next to onceflow's. */
import { fileURLToPath } from 'node:url';
import { migrate } from 'onceflow/worker';
import type pg from 'pg';

/** The example's `NNN_name.sql` files (copied next to the compiled JS in the image). */
export const ORDER_MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

/**
 * Applies the example's migrations not applied yet, recorded in `order_ops_migrations`. Run it after
 * onceflow's own `migrate(pool)`. Returns the names applied now.
 */
export function migrateOrderTables(pool: pg.Pool): Promise<string[]> {
  return migrate(pool, { dir: ORDER_MIGRATIONS_DIR, table: 'order_ops_migrations' });
}
