import type pg from 'pg';
import { migrateOrderTables } from './db.js';

/** Demo customers the embedded default and the scripted agent scenarios refer to. */
export const DEMO_CUSTOMERS = [
  { customerId: 'cust_42', name: 'Ada Lovelace', email: 'ada@example.com' },
  { customerId: 'cust_7', name: 'Alan Turing', email: 'alan@example.com' },
] as const;

/** Creates the example's tables if missing, then inserts the demo customers if missing; leaves existing rows alone. */
export async function seedDemoData(pool: pg.Pool): Promise<void> {
  await migrateOrderTables(pool);
  for (const c of DEMO_CUSTOMERS) {
    await pool.query(
      'INSERT INTO customers (customer_id, name, email) VALUES ($1, $2, $3) ON CONFLICT (customer_id) DO NOTHING',
      [c.customerId, c.name, c.email],
    );
  }
}
