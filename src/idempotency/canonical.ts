/**
 * Canonical JSON: one text per meaning, so that two requests that mean the same thing hash the same.
 * Pure JavaScript with no imports: it runs inside Temporal workflows as well as in activities.
 */

/**
 * Serialises `value` to its canonical JSON text:
 * - object keys sorted (UTF-16 code unit order, like `Array.prototype.sort`), properties whose value is
 *   `undefined` dropped, so an absent field and an `undefined` one are the same;
 * - strings (values and keys) NFC-normalised, so composed and decomposed accents are the same;
 * - numbers as JSON writes them (`1.0` is `1`, `-0` is `0`); `NaN` and `±Infinity` throw; a `bigint`
 *   is written as the integer it is;
 * - arrays keep their order; an `undefined` element is `null`, as in `JSON.stringify`;
 * - objects with `toJSON` (e.g. `Date`) are serialised through it.
 *
 * Throws a `TypeError` for what has no faithful JSON form: functions, symbols, a top-level `undefined`,
 * cycles, `Map`/`Set` and other non-plain objects, two keys equal after normalisation.
 */
export function canonicalJson(value: unknown): string {
  return write(value, [], '$');
}

function write(value: unknown, stack: object[], path: string): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.normalize('NFC'));
    case 'number':
      if (!Number.isFinite(value))
        throw new TypeError(`canonicalJson: ${path} is ${value}, not a finite number`);
      return JSON.stringify(value);
    case 'bigint':
      return value.toString();
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
      throw new TypeError(`canonicalJson: ${path} is undefined`);
    case 'function':
    case 'symbol':
      throw new TypeError(`canonicalJson: ${path} is a ${typeof value}, which has no JSON form`);
  }
  if (value === null) return 'null';
  const obj = value as object;
  if (typeof (obj as { toJSON?: unknown }).toJSON === 'function') {
    return write((obj as { toJSON: () => unknown }).toJSON(), stack, path);
  }
  if (stack.includes(obj)) throw new TypeError(`canonicalJson: ${path} is a cycle`);
  stack.push(obj);
  try {
    if (Array.isArray(obj)) {
      const items = obj.map((item: unknown, i) =>
        item === undefined ? 'null' : write(item, stack, `${path}[${i}]`),
      );
      return `[${items.join(',')}]`;
    }
    const proto = Object.getPrototypeOf(obj) as unknown;
    if (proto !== Object.prototype && proto !== null) {
      const name = (obj.constructor as { name?: string } | undefined)?.name ?? 'object';
      throw new TypeError(`canonicalJson: ${path} is a ${name}, not a plain object`);
    }
    const entries = new Map<string, string>();
    for (const [rawKey, item] of Object.entries(obj)) {
      if (item === undefined) continue;
      const key = rawKey.normalize('NFC');
      if (entries.has(key)) throw new TypeError(`canonicalJson: ${path} has two keys equal to ${key} in NFC`);
      entries.set(key, write(item, stack, `${path}.${key}`));
    }
    const keys = [...entries.keys()].sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${entries.get(k)!}`).join(',')}}`;
  } finally {
    stack.pop();
  }
}
