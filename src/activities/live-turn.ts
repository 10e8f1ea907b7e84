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
 * What one model-turn attempt publishes to its task's live stream: at the start, the discard of
 * earlier attempts' output and the previous turn's tool results; while the model answers, its text,
 * coalesced so that at most one write is in flight; at the end, its tool uses. A failed write is
 * dropped, never fails the turn: history is the record, the stream its view.
 */
export class LiveTurnWriter {
  private readonly by: TurnAttempt;
  private pending: { block: number; text: string }[] = [];
  private inflight: Promise<void> | undefined;

  constructor(
    private readonly stream: TaskStream,
    private readonly place: TurnPlace,
    private readonly live: LiveTurn,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {
    this.by = { turn: place.turn, attempt: place.attempt };
  }

  /** Before the model call: drops earlier attempts' output and shows the previous turn's tool results. */
  async begin(): Promise<void> {
    try {
      if (this.place.attempt > 1)
        await this.stream.discardEarlierAttempts(this.place.taskId, this.by, this.live.turn);
      const results: StreamEventInput[] = (this.live.toolResults ?? []).map((r) => ({
        kind: 'tool_result',
        data: r,
        dedupe: `tool_result:${r.toolUseId}`,
      }));
      // Not under this attempt's name: they belong to the previous turn and are never discarded.
      await this.stream.publish(this.place.taskId, results);
    } catch (err) {
      this.onError(err);
    }
  }

  /** A text delta of content block `block`. */
  text(block: number, text: string): void {
    const last = this.pending.at(-1);
    if (last && last.block === block) last.text += text;
    else this.pending.push({ block, text });
    this.inflight ??= this.drain();
  }

  /** After the model answered: the rest of its text, then its tool uses. */
  async end(content: AssistantBlock[]): Promise<void> {
    await this.inflight;
    const uses: StreamEventInput[] = content.flatMap((b) =>
      b.type === 'tool_use'
        ? [
            {
              kind: 'tool_use' as const,
              data: {
                turn: this.live.turn,
                attempt: this.place.attempt,
                toolUseId: b.id,
                name: b.name,
                input: b.input,
              },
              dedupe: `tool_use:${b.id}`,
            },
          ]
        : [],
    );
    await this.stream.publish(this.place.taskId, uses, this.by).catch(this.onError);
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      await this.stream
        .publish(
          this.place.taskId,
          batch.map((p) => ({
            kind: 'text_delta' as const,
            data: { turn: this.live.turn, attempt: this.place.attempt, block: p.block, text: p.text },
          })),
          this.by,
        )
        .catch(this.onError);
    }
    this.inflight = undefined;
  }
}
