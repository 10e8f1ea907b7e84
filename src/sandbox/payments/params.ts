import { invalid } from './errors.js';

/** Parsed form parameters of one request (strings, nested objects and arrays, as on the wire). */
export type Params = Record<string, unknown>;

/**
 * Refuses any top-level parameter the endpoint does not take, as Stripe does: a typo or a parameter
 * the sandbox does not implement must fail here rather than be silently ignored.
 */
export function onlyKnown(params: Params, known: readonly string[]): void {
  for (const name of Object.keys(params)) {
    if (!known.includes(name)) {
      throw invalid(`Received unknown parameter: ${name}`, name, 'parameter_unknown');
    }
  }
}

/** A string parameter; absent → undefined; a nested object where a string belongs → 400. */
export function str(params: Params, name: string): string | undefined {
  const raw = params[name];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string') throw invalid(`Invalid string: ${name}`, name, 'parameter_invalid_string');
  return raw;
}

/** A required string parameter. */
export function requiredStr(params: Params, name: string): string {
  const value = str(params, name);
  if (value === undefined || value === '') {
    throw invalid(`Missing required param: ${name}.`, name, 'parameter_missing');
  }
  return value;
}

/** A non-negative integer parameter. */
export function int(params: Params, name: string): number | undefined {
  const raw = params[name];
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (typeof raw !== 'string' || !/^\d+$/.test(raw) || !Number.isSafeInteger(value)) {
    const shown = typeof raw === 'string' ? raw : name;
    throw invalid(`Invalid integer: ${shown}`, name, 'parameter_invalid_integer');
  }
  return value;
}

/** A boolean parameter (`true`/`false` on the wire). */
export function bool(params: Params, name: string): boolean | undefined {
  const raw = params[name];
  if (raw === undefined) return undefined;
  if (raw !== 'true' && raw !== 'false')
    throw invalid(
      `Invalid boolean: ${typeof raw === 'string' ? raw : name}`,
      name,
      'parameter_invalid_boolean',
    );
  return raw === 'true';
}

/** `metadata[key]=value` pairs; an empty string clears, as at Stripe. */
export function metadata(params: Params): Record<string, string> {
  const m = params.metadata;
  if (m === undefined || m === '') return {};
  if (typeof m !== 'object' || m === null || Array.isArray(m)) throw invalid('Invalid metadata', 'metadata');
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(m)) {
    if (typeof value !== 'string') throw invalid(`Invalid metadata[${key}]`, `metadata[${key}]`);
    out[key] = value;
  }
  return out;
}

/** `expand[]=a&expand[]=b.c` → the listed paths. */
export function expandPaths(params: Params): string[] {
  const raw = params.expand;
  if (raw === undefined) return [];
  if (!Array.isArray(raw) || raw.some((p) => typeof p !== 'string')) {
    throw invalid('Invalid array', 'expand', 'parameter_invalid_array');
  }
  return raw as string[];
}
