import { abortTask, defineTool } from 'onceflow';
import { defineAgent } from 'onceflow/workflow';
import { z } from 'zod';

export const openTicket = defineTool({
  name: 'open_ticket',
  description: 'Open a support ticket. The same ticket_ref always means the same ticket.',
  input: z.object({ ticket_ref: z.string().min(1), title: z.string().min(1), body: z.string() }),
  kind: 'effect',
  activity: 'openTicket',
  effect: { identity: ['ticket_ref'], stable: ['title'] }, // the body is free text: rewording is no new ticket
  summary: (i) => `open ticket ${i.ticket_ref}`,
});

export const supportAgent = defineAgent({
  name: 'supportAgent',
  system: 'You open support tickets for customers. Never open the same ticket_ref twice.',
  tools: [openTicket, abortTask],
});
