import type { LiveTurn, StreamEventInput } from '../stream/events.js';
import type { TaskStream, TurnAttempt } from '../stream/store.js';
import type { AssistantBlock } from '../tools/messages.js';

/** Where a model-turn attempt is: its task, turn and attempt. */
export interface TurnPlace {
  taskId: string;
  /** `<run id>/<activity id>`: the same across the attempts of one turn. */
  turn: string;
  attempt: number;
}

/**
 * What one model-turn attempt publishes to its task's live stream: first the discard of earlier
 * attempts' output and the previous turn's tool results; while the model answers, its text,
 * coalesced so that at most one write is in flight; at the end, its tool uses, in the same write as
 * the last text when it is still pending. None of it delays the model call: the first write overlaps
 * the request, and text waits for it. A failed write is dropped, never fails the turn: history is
 * the record, the stream its view.
 */
export class LiveTurnWriter {
  private readonly by: TurnAttempt;
  private pending: StreamEventInput[] = [];
  private inflight: Promise<void> | undefined;
  private ready: Promise<void> = Promise.resolve();

  constructor(
    private readonly stream: TaskStream,
    private readonly place: TurnPlace,
    private readonly live: LiveTurn,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {
    this.by = { turn: place.turn, attempt: place.attempt };
  }

  /** Starts the first write: drops earlier attempts' output, shows the previous turn's tool results. */
  begin(): void {
    this.ready = (async () => {
      if (this.place.attempt > 1)
        await this.stream.discardEarlierAttempts(this.place.taskId, this.by, this.live.turn);
      const results: StreamEventInput[] = (this.live.toolResults ?? []).map((r) => ({
        kind: 'tool_result',
        data: r,
        dedupe: `tool_result:${r.toolUseId}`,
      }));
      // Not under this attempt's name: they belong to the previous turn and are never discarded.
      await this.stream.publish(this.place.taskId, results);
    })().catch(this.onError);
  }

  /** A text delta of content block `block`. */
  text(block: number, text: string): void {
    const last = this.pending.at(-1);
    if (last?.kind === 'text_delta' && (last.data as { block: number }).block === block)
      (last.data as { text: string }).text += text;
    else
      this.pending.push({
        kind: 'text_delta',
        data: { turn: this.live.turn, attempt: this.place.attempt, block, text },
      });
    this.inflight ??= this.drain();
  }

  /** After the model answered: the rest of its text, then its tool uses; resolves once written. */
  async end(content: AssistantBlock[]): Promise<void> {
    for (const b of content) {
      if (b.type !== 'tool_use') continue;
      this.pending.push({
        kind: 'tool_use',
        data: {
          turn: this.live.turn,
          attempt: this.place.attempt,
          toolUseId: b.id,
          name: b.name,
          input: b.input,
        },
        dedupe: `tool_use:${b.id}`,
      });
    }
    this.inflight ??= this.drain();
    await this.ready;
    await this.inflight;
  }

  private async drain(): Promise<void> {
    await this.ready;
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      await this.stream.publish(this.place.taskId, batch, this.by).catch(this.onError);
    }
    this.inflight = undefined;
  }
}
