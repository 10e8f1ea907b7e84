import type { temporal } from '@temporalio/proto';
import { activityCalls } from './history/activity-calls.js';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/**
 * The reset point "before `activityType`": the workflow task completed just before the first
 * activity of that type was scheduled (regular) or recorded (local: its marker is written by the
 * workflow task it ran in), so a reset there re-decides that effect and everything after.
 * Undefined when the run called no such activity.
 */
export function beforeFirstActivity(events: HistoryEvent[], activityType: string): HistoryEvent | undefined {
  const call = activityCalls(events).find((c) => c.type === activityType);
  if (!call) return undefined;
  const first = events.findIndex((e) => String(e.eventId) === call.eventId);
  return events
    .slice(0, first)
    .reverse()
    .find((e) => e.workflowTaskCompletedEventAttributes);
}
