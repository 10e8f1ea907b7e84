import type { temporal } from '@temporalio/proto';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
type Payload = temporal.api.common.v1.IPayload;

/** The marker a local activity's result is recorded under (Temporal's core SDK). */
export const LOCAL_ACTIVITY_MARKER = 'core_local_activity';

/** One activity call as history records it, regular (activity task events) or local (a marker). */
export interface ActivityCall {
  type: string;
  local: boolean;
  /** The attempt that ended it (for a regular activity, the last one started; 0 when none started). */
  attempt: number;
  /** The event that scheduled it (regular) or recorded it (local): where it sits in history. */
  eventId: string;
  /** Its result payloads when it completed; undefined when it failed, timed out or is still running. */
  result: Payload[] | undefined;
  completed: boolean;
  /** When it was scheduled (regular: the server's clock), in ms since the epoch; local calls: undefined. */
  scheduledAtMs: number | undefined;
  /** When it ended: completed/failed event (regular), or the worker's `complete_time` (local). */
  endedAtMs: number | undefined;
}

/** What core writes in a local activity marker's `data` detail (JSON, written unencoded by core). */
interface LocalActivityMarkerData {
  activity_type?: string;
  attempt?: number;
  complete_time?: { seconds?: number; nanos?: number } | null;
}

type Stamp = { seconds?: unknown; nanos?: number | null } | null | undefined;

/** Milliseconds since the epoch of a history timestamp. */
export const stampMs = (t: Stamp): number => Number(t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;

function markerData(payload: Payload | undefined): LocalActivityMarkerData | undefined {
  const encoding = payload?.metadata?.encoding;
  if (!payload?.data || !encoding || new TextDecoder().decode(encoding) !== 'json/plain') return undefined;
  return JSON.parse(new TextDecoder().decode(payload.data)) as LocalActivityMarkerData;
}

/**
 * Every activity call of a history in order, local activities included, so that readers of history
 * (test assertions, the reset point "before an activity", the CLI) see a tool call whichever way it ran.
 */
export function activityCalls(events: readonly HistoryEvent[]): ActivityCall[] {
  const calls: ActivityCall[] = [];
  const regular = new Map<string, ActivityCall>();
  for (const e of events) {
    const id = String(e.eventId);
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled?.activityType?.name) {
      const call: ActivityCall = {
        type: scheduled.activityType.name,
        local: false,
        attempt: 0,
        eventId: id,
        result: undefined,
        completed: false,
        scheduledAtMs: stampMs(e.eventTime),
        endedAtMs: undefined,
      };
      regular.set(id, call);
      calls.push(call);
      continue;
    }
    const started = e.activityTaskStartedEventAttributes;
    if (started) {
      const call = regular.get(String(started.scheduledEventId));
      if (call) call.attempt = started.attempt ?? 0;
      continue;
    }
    const done = e.activityTaskCompletedEventAttributes;
    if (done) {
      const call = regular.get(String(done.scheduledEventId));
      if (call)
        Object.assign(call, {
          completed: true,
          result: done.result?.payloads ?? [],
          endedAtMs: stampMs(e.eventTime),
        });
      continue;
    }
    const ended = e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes;
    if (ended) {
      const call = regular.get(String(ended.scheduledEventId));
      if (call) call.endedAtMs = stampMs(e.eventTime);
      continue;
    }
    const marker = e.markerRecordedEventAttributes;
    if (marker?.markerName !== LOCAL_ACTIVITY_MARKER) continue;
    const data = markerData(marker.details?.data?.payloads?.[0]);
    if (!data?.activity_type) continue;
    const completed = !marker.failure;
    calls.push({
      type: data.activity_type,
      local: true,
      attempt: data.attempt ?? 1,
      eventId: id,
      result: completed ? (marker.details?.result?.payloads ?? []) : undefined,
      completed,
      scheduledAtMs: undefined,
      endedAtMs: data.complete_time ? stampMs(data.complete_time) : stampMs(e.eventTime),
    });
  }
  return calls;
}
