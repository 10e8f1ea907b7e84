import { BusinessError, effect, undoing, type EffectResult, type Keyed } from 'onceflow/activity';
import type pg from 'pg';
import type { CreatedOrder, CreateOrderInput, Shipment, ShipmentInput, Undone, UndoInput } from '../types.js';

export interface CustomerSummary {
  customerId: string;
  name: string;
  email: string;
  orders: { orderId: string; amount: number; currency: string; status: string }[];
}

const UNIQUE_VIOLATION = '23505';

const nothingUndone = (): Undone => ({ undone: false });

function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === UNIQUE_VIOLATION;
}

/** Activities that read and write onceflow's own Postgres tables, each write under its ledger row. */
export function createRecordsActivities(pool: pg.Pool) {
  return {
    /** Read-only: a customer and their orders; null when unknown. */
    async lookupCustomer(input: { customerId: string }): Promise<CustomerSummary | null> {
      const customer = await pool.query<{ customer_id: string; name: string; email: string }>(
        'SELECT customer_id, name, email FROM customers WHERE customer_id = $1',
        [input.customerId],
      );
      const row = customer.rows[0];
      if (!row) return null;
      const orders = await pool.query<{ order_id: string; amount: number; currency: string; status: string }>(
        'SELECT order_id, amount, currency, status FROM orders WHERE customer_id = $1 ORDER BY created_at DESC LIMIT 20',
        [input.customerId],
      );
      return {
        customerId: row.customer_id,
        name: row.name,
        email: row.email,
        orders: orders.rows.map((o) => ({
          orderId: o.order_id,
          amount: o.amount,
          currency: o.currency,
          status: o.status,
        })),
      };
    },

    /** Creates the order row in the same transaction as its ledger row: exactly once. */
    async createOrder({ intent, input }: Keyed<CreateOrderInput>): Promise<EffectResult<CreatedOrder>> {
      const amount = input.items.reduce((sum, item) => sum + item.quantity * item.unitAmount, 0);
      return effect(
        intent,
        async ({ db: client }) => {
          try {
            await client.query(
              `INSERT INTO orders (order_id, task_id, customer_id, items, amount, currency, status, idempotency_key)
             VALUES ($1, $2, $3, $4, $5, $6, 'created', $7)`,
              [
                input.orderId,
                intent.scope,
                input.customerId,
                JSON.stringify(input.items),
                amount,
                input.currency,
                intent.key,
              ],
            );
          } catch (err) {
            if (isUniqueViolation(err)) {
              throw new BusinessError(
                'ORDER_EXISTS',
                `order ${input.orderId} already exists under another task`,
              );
            }
            throw err;
          }
          return { orderId: input.orderId, amount, currency: input.currency, status: 'created' as const };
        },
        { transaction: true },
      );
    },

    /**
     * Compensation of createOrder: marks the order cancelled. An order never created (the step's
     * recorded outcome says so), absent or already cancelled is nothing to undo.
     */
    async cancelOrder({ intent, input }: Keyed<UndoInput>): Promise<EffectResult<Undone>> {
      const cancel = undoing(intent, nothingUndone, async (_step, client: pg.PoolClient) => {
        const { rowCount } = await client.query(
          `UPDATE orders SET status = 'cancelled', cancel_key = $2, updated_at = now()
           WHERE order_id = $1 AND task_id = $3 AND status <> 'cancelled'`,
          [input.orderId, intent.key, intent.scope],
        );
        return { undone: (rowCount ?? 0) > 0 };
      });
      return effect(intent, ({ db }) => cancel(db), { transaction: true });
    },

    /** Books the shipment of an order (a row in `shipments`), exactly once. */
    async bookShipment({ intent, input }: Keyed<ShipmentInput>): Promise<EffectResult<Shipment>> {
      return effect(
        intent,
        async ({ db: client }) => {
          const shipmentId = `shp_${intent.key.slice(3, 19)}`;
          await client.query(
            `INSERT INTO shipments (shipment_id, order_id, task_id, address, status, idempotency_key)
           VALUES ($1, $2, $3, $4, 'booked', $5)`,
            [shipmentId, input.orderId, intent.scope, JSON.stringify(input.address), intent.key],
          );
          return { shipmentId, orderId: input.orderId, status: 'booked' as const };
        },
        { transaction: true },
      );
    },

    /** Compensation of bookShipment: releases the booking; none booked is nothing to undo. */
    async releaseShipment({ intent, input }: Keyed<UndoInput>): Promise<EffectResult<Undone>> {
      const release = undoing(intent, nothingUndone, async (_step, client: pg.PoolClient) => {
        const { rowCount } = await client.query(
          `UPDATE shipments SET status = 'released', release_key = $2, updated_at = now()
           WHERE order_id = $1 AND task_id = $3 AND status = 'booked'`,
          [input.orderId, intent.key, intent.scope],
        );
        return { undone: (rowCount ?? 0) > 0 };
      });
      return effect(intent, ({ db }) => release(db), { transaction: true });
    },
  };
}

export type RecordsActivities = ReturnType<typeof createRecordsActivities>;
