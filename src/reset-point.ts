import type { temporal } from '@temporalio/proto';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/**
 * The reset point "before `activityType`": the workflow task completed just before the first
 * activity of that type was scheduled, so a reset there re-decides that effect and everything after.
 * Undefined when the run scheduled no such activity.
 */
export function beforeFirstActivity(events: HistoryEvent[], activityType: string): HistoryEvent | undefined {
  const first = events.findIndex(
    (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === activityType,
  );
  if (first < 0) return undefined;
  return events
    .slice(0, first)
    .reverse()
    .find((e) => e.workflowTaskCompletedEventAttributes);
}
