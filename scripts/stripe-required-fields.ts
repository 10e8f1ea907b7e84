/**
 * Regenerates test/sandbox/stripe-required-fields.json: the fields Stripe's API reference marks as
 * always present on the objects the payments sandbox serves. test/sandbox/payments-spec.test.ts checks
 * every sandbox response against it, so the sandbox cannot drift from Stripe unnoticed.
 *
 *   npx tsx scripts/stripe-required-fields.ts path/to/spec3.json   # from stripe/openapi's spec
 *   npx tsx scripts/stripe-required-fields.ts                      # from the installed `stripe` SDK
 *
 * With a spec the lists are its `required` arrays. Without one they are read from the type
 * declarations of the installed `stripe` package, which Stripe generates from the same spec: a field
 * is declared without `?` exactly when the spec lists it as required (nullable ones as `T | null`).
 * That fallback pins the fixture to the API version the project's SDK speaks.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const OUT = join(ROOT, 'test', 'sandbox', 'stripe-required-fields.json');

/** Fixture key → OpenAPI schema name, and the SDK's declaration file and interface for it. */
const OBJECTS = {
  payment_intent: { schema: 'payment_intent', file: 'resources/PaymentIntents.d.ts', type: 'PaymentIntent' },
  refund: { schema: 'refund', file: 'resources/Refunds.d.ts', type: 'Refund' },
  customer: { schema: 'customer', file: 'resources/Customers.d.ts', type: 'Customer' },
  charge: { schema: 'charge', file: 'resources/Charges.d.ts', type: 'Charge' },
  error: { schema: 'api_errors', file: 'lib.d.ts', type: 'api_errors' },
  list: { schema: '', file: 'lib.d.ts', type: 'ApiList<T>' },
  search_result: { schema: '', file: 'lib.d.ts', type: 'ApiSearchResult<T>' },
} as const;

/** Field → JSON types it may have: `string`, `number`, `boolean`, `object`, `array`, `null`, joined by `|`. */
type Shape = Record<string, string>;
type Fields = Record<keyof typeof OBJECTS, Shape>;

interface Schema {
  required?: string[];
  properties?: Record<string, Property>;
}
interface Property {
  type?: string;
  nullable?: boolean;
  anyOf?: Property[];
  $ref?: string;
}

const jsonType = (p: Property): string[] =>
  p.anyOf
    ? p.anyOf.flatMap(jsonType)
    : p.$ref
      ? ['object']
      : [p.type === 'integer' ? 'number' : (p.type ?? 'object')];

const shape = (types: string[], nullable: boolean) =>
  [...new Set([...types, ...(nullable ? ['null'] : [])])].sort().join('|');
interface Spec {
  info: { version: string };
  components: { schemas: Record<string, Schema> };
  paths: Record<
    string,
    { get?: { responses: Record<string, { content: Record<string, { schema: Schema }> }> } }
  >;
}

function fromSpec(file: string): { source: string; fields: Fields } {
  const spec = JSON.parse(readFileSync(file, 'utf8')) as Spec;
  const required = (schema: Schema | undefined, name: string): Shape => {
    if (!schema?.required) throw new Error(`spec has no required list for ${name}`);
    return Object.fromEntries(
      [...schema.required].sort().map((field) => {
        const p = schema.properties?.[field] ?? {};
        return [field, shape(jsonType(p), p.nullable ?? false)];
      }),
    );
  };
  // Lists have no component of their own: they are inline in the 200 answer of a list endpoint.
  const answer = (path: string) =>
    spec.paths[path]?.get?.responses['200']?.content['application/json']?.schema;
  const fields = Object.fromEntries(
    Object.entries(OBJECTS).map(([key, { schema }]) => [
      key,
      key === 'list'
        ? required(answer('/v1/payment_intents'), key)
        : key === 'search_result'
          ? required(answer('/v1/payment_intents/search'), key)
          : required(spec.components.schemas[schema], schema),
    ]),
  ) as Fields;
  return { source: `stripe/openapi spec3.json, API version ${spec.info.version}`, fields };
}

/** JSON types of a declared TypeScript type; `Ns.Name` is a string enum when declared `type Name =`. */
function declaredTypes(text: string, declared: string): string[] {
  return declared.split(' | ').map((t) => {
    if (t === 'null' || t === 'number' || t === 'boolean' || t === 'string') return t;
    if (/^'.*'$/.test(t)) return 'string';
    if (t.startsWith('Array<')) return 'array';
    const alias = /^\w+\.(\w+)$/.exec(t)?.[1];
    if (alias && new RegExp(`^\\s*type ${alias} =`, 'm').test(text)) return 'string';
    return 'object';
  });
}

/** The non-optional members of `interface <type> {` … `}` (top level only) in a declaration file. */
function declaredFields(text: string, type: string): Shape {
  const start = text.search(
    new RegExp(`^export (?:declare )?interface ${type.replace(/[<>]/g, '\\$&')} \\{`, 'm'),
  );
  if (start < 0) throw new Error(`no declaration of ${type}`);
  const body = text.slice(start, text.indexOf('\n}', start));
  const members = [...body.matchAll(/^ {4}([a-z_]+): (.+);$/gm)];
  return Object.fromEntries(
    members
      .sort((a, b) => a[1]!.localeCompare(b[1]!))
      .map((m) => [m[1]!, shape(declaredTypes(text, m[2]!), false)]),
  );
}

function fromSdk(): { source: string; fields: Fields } {
  const dir = join(ROOT, 'node_modules', 'stripe', 'esm');
  const pkg = JSON.parse(readFileSync(join(ROOT, 'node_modules', 'stripe', 'package.json'), 'utf8')) as {
    version: string;
  };
  const openapi = readFileSync(join(ROOT, 'node_modules', 'stripe', 'OPENAPI_VERSION'), 'utf8').trim();
  const fields = Object.fromEntries(
    Object.entries(OBJECTS).map(([key, { file, type }]) => {
      if (key === 'error') {
        // The SDK types errors by hand; the spec's `api_errors` object requires `type` alone.
        return [key, { type: 'string' }];
      }
      return [key, declaredFields(readFileSync(join(dir, file), 'utf8'), type)];
    }),
  ) as Fields;
  return { source: `stripe-node ${pkg.version} type declarations (stripe/openapi ${openapi})`, fields };
}

const specFile = process.argv[2];
const { source, fields } = specFile ? fromSpec(specFile) : fromSdk();
writeFileSync(OUT, `${JSON.stringify({ source, ...fields }, null, 2)}\n`);
console.log(`wrote ${OUT} from ${source}`);
