import type { FastifySchemaCompiler } from 'fastify';
import type { z } from 'zod';
import { formatIssues } from '../tasks/request.js';
import { jsonSchema } from './schemas.js';
import { ApiError } from './errors.js';

// The JSON Schema Fastify holds for a route part (and OpenAPI publishes) → the zod schema behind it.
const zodOf = new WeakMap<object, z.ZodType>();

/** A zod schema as a route schema: JSON Schema for OpenAPI, validated by zod ({@link zodValidator}). */
export function routeSchema(schema: z.ZodType): Record<string, unknown> {
  const json = jsonSchema(schema);
  zodOf.set(json, schema);
  return json;
}

/**
 * Validation by zod: a failure is a 400 `INVALID_REQUEST` naming each field and the reason. A route
 * schema not built by {@link routeSchema} only documents (OpenAPI) and is not checked here.
 */
export const zodValidator: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
  const zod = typeof schema === 'object' && schema !== null ? zodOf.get(schema) : undefined;
  const root = httpPart === 'querystring' ? '(query)' : `(${httpPart ?? 'body'})`;
  return (data: unknown) => {
    if (!zod) return { value: data };
    const parsed = zod.safeParse(data);
    if (parsed.success) return { value: parsed.data };
    return { error: new ApiError(400, 'INVALID_REQUEST', formatIssues(parsed.error, root)) };
  };
};
