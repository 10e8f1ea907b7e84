import { Context } from '@temporalio/activity';

/**
 * onceflow's counters, exported through the worker's Prometheus endpoint (`METRICS_PORT`) alongside
 * Temporal's runtime metrics. Safe to call outside an activity (then a no-op).
 */
function meter() {
  try {
    return Context.current().metricMeter;
  } catch {
    return undefined;
  }
}

/** A side effect's outcome: executed, replayed (a duplicate prevented), recovered, conflict, error. */
export function countEffect(operation: string, outcome: string): void {
  meter()
    ?.createCounter('onceflow_effects', 'effects', 'side effects by operation and ledger outcome')
    .add(1, {
      operation,
      outcome,
    });
}

/** Model tokens used by a turn. */
export function countTokens(input: number, output: number): void {
  const counter = meter()?.createCounter('onceflow_model_tokens', 'tokens', 'model tokens used');
  counter?.add(input, { direction: 'input' });
  counter?.add(output, { direction: 'output' });
}
