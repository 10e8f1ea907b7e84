import type { temporal } from '@temporalio/proto';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/**
 * The reset point "before the charge": the workflow task completed just before the first
 * `chargePayment` activity was scheduled. Undefined when the run has no charge.
 */
export function beforeFirstCharge(events: HistoryEvent[]): HistoryEvent | undefined {
  const charge = events.findIndex(
    (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'chargePayment',
  );
  if (charge < 0) return undefined;
  return events
    .slice(0, charge)
    .reverse()
    .find((e) => e.workflowTaskCompletedEventAttributes);
}
