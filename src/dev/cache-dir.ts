import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * onceflow's cache directory, outside any checkout so clean clones and CI reuse what it holds
 * (the Temporal CLI built from Go modules). `$XDG_CACHE_HOME/onceflow`, else `~/.cache/onceflow`.
 */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME?.trim() || join(homedir(), '.cache');
  return join(base, 'onceflow');
}
