/** A form body that does not parse into parameters (answered 400). */
export class FormError extends Error {}

/** Keys that would reach `Object.prototype` through a nested path: refused, never assigned. */
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Parses Stripe-style form bodies: `a=1&metadata[order_id]=x&expand[]=y&items[0][sku]=z` into nested
 * objects and arrays. Values stay strings, as on the wire.
 */
export function parseForm(body: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [rawKey, value] of new URLSearchParams(body)) {
    const path = rawKey.replace(/\]$/, '').split(/\]?\[/);
    if (path.some((key) => FORBIDDEN.has(key))) throw new FormError(`Invalid parameter name: ${rawKey}`);
    let node: Record<string, unknown> | unknown[] = out;
    for (let i = 0; i < path.length; i++) {
      const key = path[i]!;
      const last = i === path.length - 1;
      const child = (): Record<string, unknown> | unknown[] => (/^\d*$/.test(path[i + 1]!) ? [] : {});
      let next: unknown;
      if (Array.isArray(node)) {
        const index = key === '' ? node.length : Number(key);
        if (last) node[index] = value;
        else next = node[index] ??= child();
      } else {
        if (last) node[key] = value;
        else next = node[key] ??= child();
      }
      if (last) break;
      // `a=1&a[b]=2`: a string where an object belongs.
      if (typeof next !== 'object' || next === null) throw new FormError(`Invalid parameter: ${rawKey}`);
      node = next as Record<string, unknown> | unknown[];
    }
  }
  return out;
}
