import Anthropic from '@anthropic-ai/sdk';
import type { Config } from './config.js';
import { ConfigError } from './errors.js';

const SANDBOX_ANTHROPIC_KEY = 'sk-ant-sandbox';

/**
 * The Anthropic client model turns use: the real API with `ANTHROPIC_API_KEY` (and no
 * `ANTHROPIC_BASE_URL`), else the Messages API at `ANTHROPIC_BASE_URL` or `sandboxBaseUrl` (the
 * sandbox model). SDK retries are off: Temporal owns retries and their history.
 */
export function createModelClient(config: Config, sandboxBaseUrl?: string): Anthropic {
  const real = config.anthropicApiKey !== undefined && config.anthropicBaseUrl === undefined;
  const baseURL = real ? undefined : (config.anthropicBaseUrl ?? sandboxBaseUrl);
  if (!real && !baseURL)
    throw new ConfigError(
      'no model API: set ANTHROPIC_API_KEY, or run the sandbox services (npm start does)',
    );
  return new Anthropic({
    apiKey: config.anthropicApiKey ?? SANDBOX_ANTHROPIC_KEY,
    ...(baseURL ? { baseURL } : {}),
    maxRetries: 0,
    timeout: 120_000,
  });
}

/** Where the model client points, for logs. */
export function describeModelClient(config: Config, sandboxBaseUrl?: string): string {
  const real = config.anthropicApiKey !== undefined && config.anthropicBaseUrl === undefined;
  return `model: ${real ? 'api.anthropic.com' : (config.anthropicBaseUrl ?? sandboxBaseUrl)} (${config.anthropicModel})`;
}
