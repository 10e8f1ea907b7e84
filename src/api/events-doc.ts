/** The event format of `GET /tasks/:id/events`, as the OpenAPI document states it. */
export const EVENTS_DESCRIPTION = `Server-Sent Events. Each frame has an \`id\` (increasing within the task), an \`event\` (the kind) and \`data\` (JSON). Reconnect with the \`Last-Event-ID\` header (or \`?after=<id>\`) to receive exactly the events after that one; EventSource does so by itself.

Kinds and their data:
- \`text_delta\` {turn, attempt, block, text}: model text as it is generated, in order.
- \`text_discarded\` {turn, attempts}: a model turn was retried; drop the text and tool uses shown for those attempts of that turn (a resumed stream never sends them).
- \`tool_use\` {turn, attempt, toolUseId, name, input}: the model asked for a tool call.
- \`tool_result\` {turn, toolUseId, name, key?, outcome, error?}: the call finished. \`key\` is the effect's intent key; \`outcome\` is read, executed, replayed, recovered, undone, conflict, error, invalid or denied.
- \`approval_waiting\` {toolUseId, tool, summary, reason, key}: an effect waits for POST /tasks/{id}/approve or /deny.
- \`compensation\` {sagaStatus, step, key?, status, undo, error?}: a step changed while the task is undone.
- \`status\` {status, turn?, runId}: the task's status changed.
- \`end\` {status, runId}: the run closed (COMPLETED, FAILED, CANCELED, TERMINATED, TIMED_OUT); the stream ends after it.

Model text is published by streamed model turns (agents with \`stream\` on, the default); the other kinds are read from the task's queries while someone watches, so a task nobody watched shows its current state, not each past change. Comment lines (\`: keep-alive\`) may arrive between events.`;
