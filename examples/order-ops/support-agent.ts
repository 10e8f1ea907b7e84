/**
 * The support agent: its tools come from an MCP server, the support desk (`desk` on the worker). What
 * the agent says about them is all it takes: `create_ticket` is keyed by the caller's `ticket_ref`
 * (customer and subject must not change under it) and undone by `delete_ticket` with the id the desk
 * answered; reads need no declaration.
 */
import { abortTask } from 'onceflow';
import { defineAgent, mcpServer, type AgentInput } from 'onceflow/workflow';

/** Input of {@link supportAgent}: the engine's agent input plus who must approve tickets. */
export interface SupportAgentInput extends AgentInput {
  /** Tickets of this task wait for a person's approval. Default false. */
  approveTickets?: boolean;
}

/** What the desk tools' approval rule reads. */
export interface SupportPolicy {
  approveTickets: boolean;
}

/** The support desk as this agent uses it. */
export const supportDesk = mcpServer<SupportPolicy>({
  server: 'desk',
  tools: {
    create_ticket: {
      identity: ['ticket_ref'],
      stable: ['customer_id', 'subject'],
      compensation: {
        tool: 'delete_ticket',
        arguments: { ticket_id: { $result: 'structuredContent.ticket.id' } },
        undo: 'delete the ticket',
      },
      approval: (_args, policy) => (policy.approveTickets ? 'tickets of this task need approval' : undefined),
      summary: (args) => `open ticket ${String(args.ticket_ref)} for ${String(args.customer_id)}`,
    },
    delete_ticket: { identity: ['ticket_id'] },
  },
});

/** The support agent's workflow, started as `supportAgent`. */
export const supportAgent = defineAgent<SupportAgentInput, SupportPolicy>({
  name: 'supportAgent',
  system:
    'You are a support agent. Open tickets on the support desk with the ticket_ref you are given; never open ' +
    'the same ticket_ref twice. If the task cannot be completed, call abort_task so everything done is undone.',
  tools: [abortTask],
  mcp: [supportDesk],
  policy: (input) => ({ approveTickets: input.approveTickets ?? false }),
});
