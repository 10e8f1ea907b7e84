/**
 * The events of a task's live stream (`GET /tasks/:id/events`), as the API sends them: each SSE frame
 * is `id: <n>`, `event: <kind>`, `data: <JSON of the kind's data>`. Plain types: workflow code and
 * clients import them without the store.
 */

/** Outcome of a tool call as the stream shows it (the `toolCalls` query's outcome). */
export type LiveToolOutcome =
  'read' | 'executed' | 'replayed' | 'recovered' | 'undone' | 'conflict' | 'error' | 'invalid' | 'denied';

/** A finished tool call, as the workflow recorded it. */
export interface LiveToolResult {
  turn: number;
  toolUseId: string;
  name: string;
  /** The effect's intent key; absent for reads. */
  key?: string;
  outcome: LiveToolOutcome;
  error?: string;
}

/** What a model turn tells the stream: its number and the results of the previous turn's tools. */
export interface LiveTurn {
  turn: number;
  toolResults?: LiveToolResult[];
}

/** The data of each event kind. */
export interface StreamEventData {
  /**
   * A piece of model text, in order. `attempt` counts the turn's activity attempts: when an attempt
   * is retried, a `text_discarded` event names the attempts whose text to drop.
   */
  text_delta: { turn: number; attempt: number; block: number; text: string };
  /** The text (and tool uses) of these attempts of `turn` were replaced by a retry: drop them. */
  text_discarded: { turn: number; attempts: number[] };
  /** The model asked for a tool call (sent when its turn's message is complete). */
  tool_use: { turn: number; attempt: number; toolUseId: string; name: string; input: unknown };
  tool_result: LiveToolResult;
  /** An effect waits for a person (`POST /tasks/:id/approve` or `/deny`). */
  approval_waiting: {
    toolUseId: string;
    tool: string;
    summary: string;
    reason: string;
    key?: string | undefined;
  };
  /** A step of the task's saga changed while it compensates. */
  compensation: {
    sagaStatus: string;
    step: string;
    key?: string | undefined;
    status: string;
    undo: string;
    error?: string | undefined;
  };
  /** The task's status changed (agent status, or the saga's for saga tasks). */
  status: { status: string; turn?: number; runId: string };
  /** The task's run closed; nothing follows. */
  end: { status: string; runId: string };
}

export type StreamEventKind = keyof StreamEventData;

/** One event of a task's stream, as stored and sent. */
export interface StreamEvent<K extends StreamEventKind = StreamEventKind> {
  /** Increasing within a task; the SSE `id`, resumed from with `Last-Event-ID`. */
  id: number;
  kind: K;
  data: StreamEventData[K];
}

/** An event to publish. */
export interface StreamEventInput<K extends StreamEventKind = StreamEventKind> {
  kind: K;
  data: StreamEventData[K];
  /** At most one live event per (task, dedupe): a second publish of the same is dropped. */
  dedupe?: string;
  /**
   * Publish it under no model turn even when the call names one: it is not the turn's own output
   * (the previous turn's tool results) and stays when the turn's attempt is discarded.
   */
  unowned?: boolean;
}
