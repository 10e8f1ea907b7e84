import type { Message } from '../../src/tools/messages.js';
import { transcriptQuery } from '../../src/workflows/index.js';
import type { TestEnv } from './env.js';

/** Each assistant message's text, by turn (1-based), from the workflow's own transcript. */
export async function turnTexts(env: TestEnv, id: string): Promise<string[]> {
  const messages: Message[] = await env.client.workflow.getHandle(id).query(transcriptQuery);
  return messages
    .filter((m) => m.role === 'assistant')
    .map((m) => (m.content as { type: string; text?: string }[]).map((b) => b.text ?? '').join(''));
}
