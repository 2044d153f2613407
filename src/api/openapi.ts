import { z } from 'zod';
import type { RouteDef } from './rest-routes.js';
import { errorBody } from './schemas.js';

const schemaOf = (s: z.ZodType) => z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' });
const responseSchemaOf = (s: z.ZodType) => z.toJSONSchema(s, { io: 'output', unrepresentable: 'any' });

/** The OpenAPI 3.1 document of the REST API, generated from the route table's zod schemas. */
export function openApiDocument(routes: readonly RouteDef[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = `/api/v1${r.path.replace(/:(\w+)/g, '{$1}')}`;
    paths[path] ??= {};
    const parameters = [...parametersOf(r.params, 'path'), ...parametersOf(r.query, 'query')];
    const status = String(r.status ?? 200);
    paths[path][r.method.toLowerCase()] = {
      summary: r.summary,
      operationId: `${r.method.toLowerCase()}${r.path.replace(/[/:](\w)/g, (_m, c: string) => c.toUpperCase())}`,
      'x-vmshepherd-role': r.access,
      security: [{ bearer: [] }],
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(r.body
        ? { requestBody: { required: true, content: { 'application/json': { schema: schemaOf(r.body) } } } }
        : {}),
      responses: {
        [status]: {
          description: 'OK',
          content: { 'application/json': { schema: responseSchemaOf(r.response) } },
        },
        default: {
          description: 'An error with its catalogue code (docs/errors.md)',
          content: { 'application/json': { schema: responseSchemaOf(errorBody) } },
        },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'vmshepherd API',
      version,
      description:
        'REST API of vmshepherd. Reads need a read or operate token when tokens are configured (unless ' +
        '`http.open_reads`); every action needs an operate token. The JSON-RPC API of the original is at POST /api.',
    },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    paths,
  };
}

function parametersOf(schema: z.ZodObject | undefined, where: 'path' | 'query') {
  if (!schema) return [];
  return Object.entries(schema.shape).map(([name, s]) => {
    const type = s as z.ZodType;
    return {
      name,
      in: where,
      required: where === 'path' || !type.safeParse(undefined).success,
      schema: schemaOf(type),
      ...(type.description ? { description: type.description } : {}),
    };
  });
}
