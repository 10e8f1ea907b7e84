import { seededRandom } from '../../src/random.js';
import type { OrderStep } from '../../examples/order-ops/order-saga.js';

export { seededRandom };

/** The faults a chaos run can inject, by name (`--faults a,b,…`). */
export const FAULTS = [
  'kill', // SIGKILL the worker running the charge, after the charge committed and before the activity completed
  // (the charge runs as a local activity in agents and in half the order sagas, a regular one in the rest:
  // the run counts `kill` for regular and `killLocal` for local)
  'drop', // the payments API commits the charge and drops the response (twice: the SDK retries once itself)
  'fail5xx', // the payments API and the SMTP server fail before commit
  'timeout', // the charge is slower than the activity's start-to-close timeout
  'smtpDrop', // the SMTP server stores the message and drops the connection before its 250
  'dupStart', // the backend starts the same task three times at once
  'redecide', // the model asks for the same charge again in a later turn (agent tasks)
  'reset', // the finished session is reset to before its charge and runs again (agent tasks)
  'startAfterDone', // the backend starts the same task again after it finished (must return it, not re-run it)
  'resetPastUndo', // the task aborts after its charge, is reset to before the charge, and the model then diverges
  'pgKill', // Postgres connections of the workers are terminated mid-transaction
] as const;
export type FaultName = (typeof FAULTS)[number];

/** One task of a chaos run and the faults planned for it. */
export interface TaskPlan {
  index: number;
  kind: 'order' | 'agent';
  workflowId: string;
  orderId: string;
  customerId: string;
  email: string;
  /** Agent tasks: the scripted scenario. */
  scenario?: string;
  /** Order tasks designed to fail and compensate. */
  failAfter?: OrderStep;
  declined?: boolean;
  /** Order tasks: where the saga's steps run (agents use their default, local). */
  execution?: 'local' | 'regular';
  faults: FaultName[];
}

const AGENT_SCENARIOS = [
  'agent-happy-path',
  'agent-abort-after-charge',
  'agent-invalid-input',
  'agent-declined-charge',
  'agent-refund-then-done',
  'agent-refund-then-abort',
] as const;
const FAIL_STEPS: OrderStep[] = ['charge_payment', 'book_shipment', 'send_email'];

/** Per-task faults (pgKill is run-wide) and the chance each is drawn for a task. */
const TASK_FAULTS: [FaultName, number][] = [
  ['kill', 0.08],
  ['drop', 0.2],
  ['fail5xx', 0.15],
  ['timeout', 0.08],
  ['smtpDrop', 0.12],
  ['dupStart', 0.2],
  ['redecide', 0.25],
  ['reset', 0.12],
  ['startAfterDone', 0.15],
  ['resetPastUndo', 0.1],
];

/**
 * A reproducible plan: half order sagas (a fifth of them designed to fail and compensate), half scripted
 * agent sessions (some aborting after the charge), each with faults drawn from the enabled set.
 */
export function makePlan(runs: number, seed: number, enabled: readonly FaultName[]): TaskPlan[] {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const plans: TaskPlan[] = [];
  for (let index = 0; index < runs; index++) {
    const id = `s${seed}-${index}`;
    const kind = random() < 0.5 ? 'order' : 'agent';
    const faults = TASK_FAULTS.filter(([name, p]) => {
      const drawn = random() < p; // always draw, so enabling a fault does not shift the others
      if (!enabled.includes(name)) return false;
      if ((name === 'redecide' || name === 'reset') && kind !== 'agent') return false;
      return drawn;
    }).map(([name]) => name);
    const plan: TaskPlan = {
      index,
      kind,
      workflowId: `chaos-${id}`,
      orderId: `ord_${id.replace(/-/g, '_')}`,
      customerId: `cust_chaos_${id.replace(/-/g, '_')}`,
      email: `chaos-${id}@example.com`,
      faults,
    };
    const r = random();
    if (kind === 'order') {
      if (r < 0.15) plan.failAfter = pick(FAIL_STEPS);
      else if (r < 0.2) plan.declined = true;
      plan.execution = random() < 0.5 ? 'local' : 'regular';
    } else {
      plan.scenario = faults.includes('redecide') ? 'agent-repeat-charge' : pick(AGENT_SCENARIOS);
    }
    // Reset past a compensation: the task must have compensated after its charge. The agent's
    // scripted model then diverges (told the charge was undone, it stops); the order saga fails anew.
    if (faults.includes('resetPastUndo')) {
      if (kind === 'agent' && !faults.includes('redecide')) plan.scenario = 'agent-abort-after-charge';
      if (kind === 'order') {
        plan.failAfter = 'book_shipment';
        delete plan.declined;
      }
    }
    plans.push(plan);
  }
  return plans;
}
