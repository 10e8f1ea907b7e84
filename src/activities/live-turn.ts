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
 * What one model-turn attempt publishes to its task's live stream: first (on a retry) the discard
 * of earlier attempts' output, then the previous turn's tool results, the model's text as it comes,
 * coalesced so that at most one write is in flight, and at the end its tool uses, each write taking
 * everything queued by then. None of it delays the model call: the first write overlaps the request.
 * A failed write is dropped, never fails the turn: history is the record, the stream its view.
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

  /**
   * Before the model call: starts dropping earlier attempts' output (a retry; the first write waits
   * for it), and queues the previous turn's tool results for the turn's first write.
   */
  begin(): void {
    if (this.place.attempt > 1)
      this.ready = this.stream
        .discardEarlierAttempts(this.place.taskId, this.by, this.live.turn)
        .then(() => undefined, this.onError);
    // Not the turn's own output: they belong to the previous turn and stay if this attempt is discarded.
    for (const r of this.live.toolResults ?? [])
      this.pending.push({
        kind: 'tool_result',
        data: r,
        dedupe: `tool_result:${r.toolUseId}`,
        unowned: true,
      });
    // Sent with the first text (or the tool uses): one write fewer per turn. Until then a watcher
    // sees them from the task's query (the API publishes them under the same dedupe name).
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
