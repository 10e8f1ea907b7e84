import { allHandlersFinished, condition, defineSignal, defineUpdate, setHandler } from '@temporalio/workflow';

/**
 * A minimal stream in a workflow, after the design of `@temporalio/workflow-streams` (not installed):
 * publishers append with a signal (fire and forget), subscribers long-poll with an update that waits
 * until the log is longer than their offset. One workflow per stream; `finish` ends it.
 */
export const publishSignal = defineSignal<[items: string[]]>('publish');
export const pollUpdate = defineUpdate<PollResult, [offset: number]>('poll');
export const finishSignal = defineSignal('finish');

/** What a poll returns: the items after the caller's offset and the offset to poll from next. */
export interface PollResult {
  items: string[];
  offset: number;
}

/** Holds the append-only log until `finish`; returns its length. */
export async function streamWorkflow(): Promise<number> {
  const log: string[] = [];
  let finished = false;
  setHandler(publishSignal, (items) => {
    log.push(...items);
  });
  setHandler(pollUpdate, async (offset) => {
    await condition(() => log.length > offset || finished);
    return { items: log.slice(offset), offset: log.length };
  });
  setHandler(finishSignal, () => {
    finished = true;
  });
  await condition(() => finished);
  await condition(allHandlersFinished);
  return log.length;
}
