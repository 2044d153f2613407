import { z } from 'zod';
import { coerceLikePython } from './python-values.js';
import type { OptionIssue, OptionsResult } from './types.js';

type Path = (string | number)[];

/** Flattens zod issues into option issues, one per unknown key so each can be pointed at. */
export function zodIssues(error: z.ZodError, schema?: z.ZodType): OptionIssue[] {
  const out: OptionIssue[] = [];
  for (const issue of error.issues) {
    const path: Path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
    if (issue.code === 'unrecognized_keys') {
      const knownKeys = schema ? keysAt(schema, path) : undefined;
      for (const key of issue.keys) {
        out.push({
          path: [...path, key],
          message: `unknown key '${key}'`,
          unknownKey: key,
          ...(knownKeys ? { knownKeys } : {}),
        });
      }
    } else if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      // Report the branch that got furthest instead of zod's generic "invalid input".
      const best = [...issue.errors].sort((a, b) => deepest(b) - deepest(a))[0] ?? [];
      for (const nested of zodIssues(new z.ZodError(best)))
        out.push({ ...nested, path: [...path, ...nested.path] });
    } else {
      out.push({ path, message: issue.message });
    }
  }
  return out;
}

function deepest(issues: z.core.$ZodIssue[]): number {
  return Math.max(0, ...issues.map((i) => i.path.length));
}

/** The keys of the object schema found at `path` (through optional, default, nullable, unions, records). */
export function keysAt(schema: z.ZodType, path: Path): string[] | undefined {
  const objects = objectsAt(schema, path);
  if (objects.length === 0) return undefined;
  return [...new Set(objects.flatMap((o) => Object.keys(o.shape)))];
}

function objectsAt(schema: z.ZodType, path: Path): z.ZodObject[] {
  const s = unwrap(schema);
  if (s instanceof z.ZodUnion) return s.options.flatMap((o) => objectsAt(o as z.ZodType, path));
  if (path.length === 0) return s instanceof z.ZodObject ? [s] : [];
  const [head, ...rest] = path;
  if (s instanceof z.ZodObject && typeof head === 'string' && head in s.shape) {
    return objectsAt(s.shape[head] as z.ZodType, rest);
  }
  if (s instanceof z.ZodArray) return objectsAt(s.element as z.ZodType, rest);
  if (s instanceof z.ZodRecord) return objectsAt(s.valueType as z.ZodType, rest);
  return [];
}

function unwrap(schema: z.ZodType): z.ZodType {
  let s: z.ZodType = schema;
  for (;;) {
    if (s instanceof z.ZodOptional || s instanceof z.ZodNullable || s instanceof z.ZodDefault) {
      s = s.unwrap() as z.ZodType;
    } else if (s instanceof z.ZodPipe) {
      s = s.in as z.ZodType;
    } else {
      return s;
    }
  }
}

/** Builds the option half of a driver definition from a strict zod object. */
export function zodOptions<S extends z.ZodObject>(schema: S) {
  return {
    optionKeys: Object.keys(schema.shape),
    parseOptions(raw: Record<string, unknown>): OptionsResult<z.output<S>> {
      const { value, coercions } = coerceLikePython(schema, raw);
      const result = schema.safeParse(value);
      const warnings = coercions.length > 0 ? { warnings: coercions } : {};
      return result.success
        ? { ok: true, value: result.data, ...warnings }
        : { ok: false, issues: zodIssues(result.error, schema), ...warnings };
    },
    optionsJsonSchema: z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<
      string,
      unknown
    >,
  };
}
