import type pg from 'pg';

/** Downstream truth about money, per customer (the `customer`, else `metadata.customer_id`). */
export interface PaymentsAudit {
  customers: {
    customer: string;
    charges: number;
    charged: number;
    refunds: number;
    refunded: number;
    net: number;
  }[];
  paymentIntents: {
    id: string;
    customer: string;
    orderId: string | null;
    amount: number;
    refunded: number;
    status: string;
    key: string | null;
  }[];
}

/** Downstream truth about email, per recipient. */
export interface EmailAudit {
  recipients: { to: string; messages: number; messageIds: string[] }[];
}

const CUSTOMER = `COALESCE(pi.customer, pi.metadata ->> 'customer_id', '(none)')`;

/**
 * What the payments API really did: succeeded charges and refunds, per customer. Read straight from
 * the sandbox's tables, never from onceflow's ledger, so an audit can catch the ledger lying.
 */
export async function auditPayments(
  pool: pg.Pool,
  filter: { customer?: string } = {},
): Promise<PaymentsAudit> {
  const where = filter.customer ? `AND ${CUSTOMER} = $1` : '';
  const params = filter.customer ? [filter.customer] : [];
  const intents = await pool.query<{
    id: string;
    customer: string;
    order_id: string | null;
    amount: number;
    refunded: string;
    status: string;
    key: string | null;
  }>(
    `SELECT pi.id, ${CUSTOMER} AS customer, pi.metadata ->> 'order_id' AS order_id, pi.amount_received AS amount,
            COALESCE((SELECT sum(r.amount) FROM sandbox.refunds r WHERE r.payment_intent = pi.id), 0) AS refunded,
            pi.status, pi.metadata ->> 'onceflow_key' AS key
       FROM sandbox.payment_intents pi
      WHERE pi.status = 'succeeded' ${where}
      ORDER BY pi.created, pi.id`,
    params,
  );
  const refundCounts = await pool.query<{ customer: string; refunds: string }>(
    `SELECT ${CUSTOMER} AS customer, count(r.id) AS refunds
       FROM sandbox.refunds r JOIN sandbox.payment_intents pi ON pi.id = r.payment_intent
      WHERE true ${where}
      GROUP BY 1`,
    params,
  );
  const byCustomer = new Map<string, PaymentsAudit['customers'][number]>();
  for (const pi of intents.rows) {
    const c = byCustomer.get(pi.customer) ?? {
      customer: pi.customer,
      charges: 0,
      charged: 0,
      refunds: 0,
      refunded: 0,
      net: 0,
    };
    c.charges += 1;
    c.charged += pi.amount;
    c.refunded += Number(pi.refunded);
    c.net = c.charged - c.refunded;
    byCustomer.set(pi.customer, c);
  }
  for (const r of refundCounts.rows) {
    const c = byCustomer.get(r.customer);
    if (c) c.refunds = Number(r.refunds);
  }
  return {
    customers: [...byCustomer.values()],
    paymentIntents: intents.rows.map((pi) => ({
      id: pi.id,
      customer: pi.customer,
      orderId: pi.order_id,
      amount: pi.amount,
      refunded: Number(pi.refunded),
      status: pi.status,
      key: pi.key,
    })),
  };
}

/** What the SMTP server really received, per recipient (duplicates included: SMTP cannot dedup). */
export async function auditEmail(pool: pg.Pool, filter: { to?: string } = {}): Promise<EmailAudit> {
  const { rows } = await pool.query<{ to: string; messages: string; message_ids: string[] }>(
    `SELECT lower(t.rcpt) AS to, count(*) AS messages, array_agg(e.message_id ORDER BY e.id) AS message_ids
       FROM sandbox.emails e, unnest(e.rcpt_to) AS t(rcpt)
      ${filter.to ? 'WHERE lower(t.rcpt) = lower($1)' : ''}
      GROUP BY 1 ORDER BY 1`,
    filter.to ? [filter.to] : [],
  );
  return {
    recipients: rows.map((r) => ({ to: r.to, messages: Number(r.messages), messageIds: r.message_ids })),
  };
}
