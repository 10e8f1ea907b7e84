/**
 * Parses Stripe-style form bodies: `a=1&metadata[order_id]=x&expand[]=y&items[0][sku]=z` into nested
 * objects and arrays. Values stay strings, as on the wire.
 */
export function parseForm(body: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [rawKey, value] of new URLSearchParams(body)) {
    const path = rawKey.replace(/\]$/, '').split(/\]?\[/);
    let node: Record<string, unknown> | unknown[] = out;
    for (let i = 0; i < path.length; i++) {
      const key = path[i]!;
      const last = i === path.length - 1;
      if (Array.isArray(node)) {
        const index = key === '' ? node.length : Number(key);
        if (last) node[index] = value;
        else
          node = (node[index] ??= /^\d*$/.test(path[i + 1]!) ? [] : {}) as
            Record<string, unknown> | unknown[];
      } else {
        if (last) node[key] = value;
        else
          node = (node[key] ??= /^\d*$/.test(path[i + 1]!) ? [] : {}) as Record<string, unknown> | unknown[];
      }
    }
  }
  return out;
}
