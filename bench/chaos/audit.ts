import type pg from 'pg';
import type { SagaState } from '../../src/workflows/saga.js';
import type { TaskPlan } from './plan.js';

/** How a task ended, as the client saw it. */
export type TaskState =
  'completed' | 'compensated' | 'compensation_failed' | 'denied' | 'unfinished' | 'failed';

export interface TaskOutcome {
  plan: TaskPlan;
  state: TaskState;
  reason?: string;
  /** The final run's saga state: which effects the task reports in effect, undone or compensated. */
  saga?: SagaState | undefined;
  latencyMs: number;
}

export interface TaskAudit {
  workflowId: string;
  state: TaskState;
  /** Effect instances the downstream systems hold for this task. */
  observed: number;
  /** Distinct effects among them (one charge, one row, one message per Message-ID…). */
  distinct: number;
  duplicates: number;
  lostCompensations: number;
  missing: number;
  /** Saga steps whose reported state disagrees with the downstream (see {@link disagreements}). */
  statusDisagreements: number;
  problems: string[];
}

/** What the downstream holds of one task, by effect. */
interface Downstream {
  net: number;
  orders: string[];
  shipments: string[];
  messages: number;
}

/** Whether the effect of a saga step (named after its tool) is in effect downstream. */
function inEffect(step: string, d: Downstream): boolean | undefined {
  const tool = step.split(' ')[0];
  if (tool === 'create_order') return d.orders.includes('created');
  if (tool === 'charge_payment') return d.net > 0;
  if (tool === 'book_shipment') return d.shipments.includes('booked');
  if (tool === 'send_email') return d.messages > 0;
  return undefined;
}

/**
 * The status invariant: a task's final status and saga state agree with the downstream. `completed`
 * ⇒ every step it reports `succeeded` is in effect and every step it reports `undone` is not;
 * `compensated` ⇒ no reversible step is in effect (irreversible ones, an email, are corrected instead).
 */
function disagreements(state: TaskState, saga: SagaState | undefined, d: Downstream): string[] {
  if (state !== 'completed' && state !== 'compensated') return [];
  if (!saga) return [`ended ${state} but its saga state could not be read`];
  const found: string[] = [];
  for (const step of saga.steps) {
    const live = inEffect(step.name, d);
    if (live === undefined) continue;
    if (state === 'completed' && step.status === 'succeeded' && !live)
      found.push(`completed, reports ${step.name} succeeded, but it is not in effect`);
    if (state === 'completed' && step.status === 'undone' && live && !step.irreversible)
      found.push(`completed, reports ${step.name} undone, but it is in effect`);
    if (state === 'compensated' && live && !step.irreversible)
      found.push(`compensated, but ${step.name} is in effect`);
  }
  if (saga.status !== state) found.push(`ended ${state} but its saga is ${saga.status}`);
  return found;
}

/**
 * Audits one task from downstream truth: the payments API's charges and refunds, the SMTP server's
 * messages, our order and shipment rows. Never from the ledger.
 */
export async function auditTask(pool: pg.Pool, outcome: TaskOutcome): Promise<TaskAudit> {
  const { plan, state } = outcome;
  const problems: string[] = [];
  const charges = await pool.query<{ amount: number; refunded: string }>(
    `SELECT pi.amount_received AS amount,
            COALESCE((SELECT sum(amount) FROM sandbox.refunds r WHERE r.payment_intent = pi.id), 0) AS refunded
       FROM sandbox.payment_intents pi
      WHERE pi.status = 'succeeded' AND pi.metadata ->> 'order_id' = $1`,
    [plan.orderId],
  );
  const refunds = await pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM sandbox.refunds r JOIN sandbox.payment_intents pi ON pi.id = r.payment_intent
      WHERE pi.metadata ->> 'order_id' = $1`,
    [plan.orderId],
  );
  const mails = await pool.query<{ message_id: string; n: string }>(
    `SELECT message_id, count(*) AS n FROM sandbox.emails WHERE lower($1) = ANY (rcpt_to) GROUP BY message_id`,
    [plan.email],
  );
  const orders = await pool.query<{ status: string }>('SELECT status FROM orders WHERE order_id = $1', [
    plan.orderId,
  ]);
  const shipments = await pool.query<{ status: string }>('SELECT status FROM shipments WHERE order_id = $1', [
    plan.orderId,
  ]);

  const charged = charges.rows.reduce((s, r) => s + r.amount, 0);
  const refunded = charges.rows.reduce((s, r) => s + Number(r.refunded), 0);
  const refundCount = Number(refunds.rows[0]?.n ?? 0);
  const messages = mails.rows.reduce((s, r) => s + Number(r.n), 0);
  const observed = charges.rowCount! + refundCount + messages + orders.rowCount! + shipments.rowCount!;
  const distinct =
    Math.min(charges.rowCount!, 1) +
    Math.min(refundCount, 1) +
    mails.rowCount! +
    Math.min(orders.rowCount!, 1) +
    Math.min(shipments.rowCount!, 1);

  let duplicates = 0;
  if (charges.rowCount! > 1) {
    duplicates += charges.rowCount! - 1;
    problems.push(`${charges.rowCount} charges for ${plan.orderId}`);
  }
  if (refundCount > 1) {
    duplicates += refundCount - 1;
    problems.push(`${refundCount} refunds for ${plan.orderId}`);
  }
  for (const m of mails.rows) {
    if (Number(m.n) > 1) {
      duplicates += Number(m.n) - 1;
      problems.push(`message ${m.message_id} delivered ${m.n} times`);
    }
  }
  if (shipments.rowCount! > 1) {
    duplicates += shipments.rowCount! - 1;
    problems.push(`${shipments.rowCount} shipments for ${plan.orderId}`);
  }

  let lostCompensations = 0;
  let missing = 0;
  if (state === 'compensated') {
    if (charged !== refunded) {
      lostCompensations++;
      problems.push(`compensated but charged ${charged}, refunded ${refunded}`);
    }
    if (orders.rows.some((o) => o.status !== 'cancelled')) {
      lostCompensations++;
      problems.push('compensated but the order row is not cancelled');
    }
    if (shipments.rows.some((s) => s.status !== 'released')) {
      lostCompensations++;
      problems.push('compensated but the shipment is still booked');
    }
    const sentConfirmation = mails.rowCount! > 0;
    if (sentConfirmation && mails.rowCount! < 2) {
      lostCompensations++;
      problems.push('compensated after the confirmation email but no correction was sent');
    }
  }
  const mismatch = disagreements(outcome.state, outcome.saga, {
    net: charged - refunded,
    orders: orders.rows.map((o) => o.status),
    shipments: shipments.rows.map((r) => r.status),
    messages,
  });
  problems.push(...mismatch);
  // A completed task that reports steps undone (a reset past its compensation) is not missing them.
  const undone = outcome.saga?.steps.some((s) => s.status === 'undone') ?? false;
  if (state === 'completed' && !undone) {
    if (charges.rowCount === 0) {
      missing++;
      problems.push('completed without a charge');
    }
    if (refunded > 0) problems.push(`completed but ${refunded} refunded`);
    if (orders.rows[0]?.status !== 'created') {
      missing++;
      problems.push('completed without an order row in state created');
    }
  }
  if (state === 'unfinished' || state === 'failed') problems.push(`ended ${state}: ${outcome.reason ?? ''}`);
  return {
    workflowId: plan.workflowId,
    state,
    observed,
    distinct,
    duplicates,
    lostCompensations,
    missing,
    statusDisagreements: mismatch.length,
    problems,
  };
}

/** Ledger claims left in progress past their lease and not handed to a person: none may remain. */
export async function stuckClaims(pool: pg.Pool, scopes: string[]): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM idempotency_ledger
      WHERE scope = ANY ($1) AND status = 'in_progress' AND NOT needs_attention
        AND (lease_expires_at IS NULL OR lease_expires_at < now())`,
    [scopes],
  );
  return Number(rows[0]?.n ?? 0);
}
