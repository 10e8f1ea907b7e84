import { FaultController } from '../sandbox/faults.js';
import { startModelServer } from '../sandbox/model.js';

/** A running scripted model: an Anthropic Messages API on localhost. */
export interface ScriptedModel {
  /** Pass as `ANTHROPIC_BASE_URL` (or the SDK's `baseURL`). */
  baseURL: string;
  /** Fault injection (drop, 5xx, delay) for its requests. */
  faults: FaultController;
  close(): Promise<void>;
}

/**
 * Starts the scripted model alone, playing your scenarios: `<scenariosDir>/<name>.json`, chosen per
 * task by the agent input's `scenario` (sent as the `x-onceflow-scenario` header). A scenario is a list
 * of turns, each the assistant content to answer with (text and `tool_use` blocks); `{{name}}` in any
 * string is replaced by the `name=value` token of the task's prompt, so one scenario serves many
 * tasks. It answers like the Messages API (`id`, `content`, `stop_reason`, `usage`), so the official
 * SDK and the model activity need no change to talk to it.
 */
export async function startScriptedModel(options: {
  scenariosDir: string;
  port?: number;
}): Promise<ScriptedModel> {
  const faults = new FaultController();
  const server = await startModelServer({
    host: '127.0.0.1',
    port: options.port ?? 0,
    faults,
    scenariosDir: options.scenariosDir,
  });
  return { baseURL: `http://127.0.0.1:${server.port}`, faults, close: server.close };
}
