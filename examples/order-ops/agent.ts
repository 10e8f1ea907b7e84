/** The order-operations agent: a system prompt, the order tools and the approval policy. */
import { defineAgent, type AgentInput } from 'onceflow/workflow';
import { ORDER_TOOLS, type OrderPolicy } from './tools.js';

/** Input of {@link agentWorkflow}: the engine's agent input plus the approval limit. */
export interface OrderAgentInput extends AgentInput {
  /** Charges above this many minor units wait for a person. Default 10 000. */
  approvalLimit?: number;
}

const SYSTEM =
  'You are an order-operations agent. Use the tools to act for the customer. Every side-effecting tool needs ' +
  'the business reference (order_id) it acts on. If a tool says an action was already done, do not repeat it. ' +
  'If the task cannot be completed, call abort_task so everything done is undone.';

/** The order agent's workflow; its type name `agentWorkflow` is what running tasks and histories use. */
export const agentWorkflow = defineAgent<OrderAgentInput, OrderPolicy>({
  name: 'agentWorkflow',
  system: (input) => (input.customerId ? `${SYSTEM} The customer is ${input.customerId}.` : SYSTEM),
  tools: ORDER_TOOLS,
  policy: (input) => ({ approvalLimit: input.approvalLimit ?? 10_000 }),
});
