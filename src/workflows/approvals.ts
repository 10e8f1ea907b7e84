import type { Duration } from '@temporalio/common';
import { condition, setCurrentDetails, setHandler } from '@temporalio/workflow';
import {
  approveUpdate,
  denyUpdate,
  type ApprovalArgs,
  type ApprovalDecision,
  type PendingApproval,
} from './agent-state.js';
import type { Intent } from '../tools/effects.js';

/** What a person is asked about: one call (`id`: a tool use or a saga step) and the effect it would perform. */
export interface ApprovalAsk {
  id: string;
  tool: string;
  summary: string;
  reason: string;
  intent: Pick<Intent, 'key' | 'fingerprint'>;
}

/** The decision an effect waited for; a timeout is a denial with note `approval timed out`. */
export interface ApprovalOutcome {
  approved: boolean;
  note: string;
  by?: string;
}

/** Options of {@link approvalDesk}. */
export interface ApprovalDeskOptions {
  /** How long one effect waits before it counts as denied. Default 24 hours. */
  timeout?: Duration | undefined;
  /** Called when an effect starts waiting (status `waiting_approval`) and when it stops. */
  onWaiting: (waiting: boolean) => void;
}

/**
 * The one place a workflow waits for a person: registers the `approve` and `deny` updates (refused by
 * their validator when nothing waits, or when the decision names another intent key) and asks about
 * one effect at a time. Used by agents and by `runSaga`; the decision approves exactly the effect
 * asked about.
 */
export function approvalDesk(options: ApprovalDeskOptions) {
  let pending: PendingApproval | null = null;
  let decision: ApprovalDecision | undefined;
  const validatePending = (args: ApprovalArgs) => {
    if (!pending) throw new Error('no tool call is waiting for approval');
    if (args.key !== undefined && args.key !== pending.key)
      throw new Error(`the waiting approval is for effect ${pending.key ?? '(unkeyed)'}, not ${args.key}`);
  };
  const decide = (approved: boolean) => (args: ApprovalArgs) => {
    const waiting = pending!;
    decision = { approved, ...(args.by ? { by: args.by } : {}), ...(args.note ? { note: args.note } : {}) };
    return waiting;
  };
  setHandler(approveUpdate, decide(true), { validator: validatePending });
  setHandler(denyUpdate, decide(false), { validator: validatePending });
  return {
    /** The effect waiting now, or null. */
    pending: (): PendingApproval | null => pending,
    /** Waits for a person's decision on `ask`. */
    async ask(ask: ApprovalAsk): Promise<ApprovalOutcome> {
      // The waiting approval names the effect's key and terms: a decision sent for another is refused.
      pending = {
        toolUseId: ask.id,
        tool: ask.tool,
        summary: ask.summary,
        reason: ask.reason,
        key: ask.intent.key,
        fingerprint: ask.intent.fingerprint,
      };
      decision = undefined;
      options.onWaiting(true);
      setCurrentDetails(`waiting for approval: ${ask.summary} (${ask.reason})`);
      const decided = await condition(() => decision !== undefined, options.timeout ?? '24 hours');
      const outcome: ApprovalDecision =
        decided && decision ? decision : { approved: false, note: 'approval timed out' };
      pending = null;
      options.onWaiting(false);
      return {
        approved: outcome.approved,
        note: outcome.note ?? (outcome.approved ? 'approved' : 'denied'),
        ...(outcome.by ? { by: outcome.by } : {}),
      };
    },
  };
}
