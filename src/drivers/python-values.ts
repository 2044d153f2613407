import type { z } from 'zod';
import { isPlainObject } from '../util/deep-merge.js';
import type { OptionIssue } from './types.js';

type Path = (string | number)[];
type Kind = 'string' | 'number' | 'boolean' | 'object' | 'array' | 'null' | 'date' | 'any';

/** Marks a key whose empty value is taken as not given: it is removed from its object. */
const ABSENT = Symbol('absent');

/** Numbers the original read through int()/float() (or wrote into text, like a port into a URL). */
const NUMERIC_TEXT = new WeakSet<z.ZodType>();

/**
 * Marks a number schema where the original also took numeric text (`worker_interval: '5'`, HttpHealthcheck's
 * `port: '7007'`): such text is converted, with a warning. Elsewhere (`count: '3'`, which Python could not
 * subtract from) numeric text stays an error.
 */
export function acceptsNumericText<S extends z.ZodType>(schema: S): S {
  NUMERIC_TEXT.add(schema);
  return schema;
}

const NUMBER_TEXT = /^\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*$/;

/**
 * Converts the values the original (Python) accepted where the schema expects another type, the way
 * Python used them: a number or boolean where text is expected becomes its `str()` (`name: 2024` is
 * "2024", `yes` is "True"); text or a number where a boolean is expected is its truthiness (`'true'`,
 * `'yes'` and also `'false'` are true: any non-empty text was); an empty value (`key:`) of an optional key
 * is taken as not given (`config.get(key)` gave None). Each conversion is returned, with its path, so it is
 * reported as a warning and never silent. Pure: `value` is not changed.
 */
export function coerceLikePython(
  schema: z.ZodType,
  value: unknown,
  path: Path = [],
): { value: unknown; coercions: OptionIssue[] } {
  const coercions: OptionIssue[] = [];
  const out = walk(schema, value, path, coercions);
  return { value: out === ABSENT ? undefined : out, coercions };
}

function walk(schema: z.ZodType, value: unknown, path: Path, out: OptionIssue[]): unknown {
  const inner = unwrap(schema);
  const kinds = kindsOf(inner);
  const kind = kindOf(value);
  if (kind === 'null' && !kinds.has('null') && !kinds.has('any') && canBeAbsent(schema)) {
    out.push({ path, message: 'empty: taken as not given, as the original did' });
    return ABSENT;
  }
  if (kinds.has(kind) || kinds.has('any')) return walkInside(inner, value, kind, path, out);
  if ((kind === 'number' || kind === 'boolean' || kind === 'date') && takesText(inner)) {
    const text = pythonStr(value);
    out.push({ path, message: `${describe(value)} is not text: taken as '${text}', as the original did` });
    return text;
  }
  if (kind === 'string' && NUMERIC_TEXT.has(inner) && NUMBER_TEXT.test(value as string)) {
    const number = Number(value);
    out.push({ path, message: `'${value}' is text: taken as the number ${number}, as the original did` });
    return number;
  }
  if ((kind === 'string' || kind === 'number') && kinds.has('boolean')) {
    const truth = value !== '' && value !== 0;
    out.push({
      path,
      message: `${describe(value)} is not a boolean: taken as ${truth}, its truth value in the original (Python)`,
    });
    return truth;
  }
  return value; // left to the schema, which reports it
}

/** Descends into objects, records, arrays and the union option of the value's kind. */
function walkInside(schema: z.ZodType, value: unknown, kind: Kind, path: Path, out: OptionIssue[]): unknown {
  const def = defOf(schema);
  if (def.type === 'union') {
    const option = (def.options as z.ZodType[]).find((o) => kindsOf(unwrap(o)).has(kind));
    return option && (kind === 'object' || kind === 'array')
      ? walkInside(unwrap(option), value, kind, path, out)
      : value;
  }
  if (def.type === 'object' && isPlainObject(value)) {
    const shape = def.shape as Record<string, z.ZodType>;
    return mapObject(value, (key, v) =>
      Object.hasOwn(shape, key) ? walk(shape[key] as z.ZodType, v, [...path, key], out) : v,
    );
  }
  if (def.type === 'record' && isPlainObject(value)) {
    return mapObject(value, (key, v) => walk(def.valueType as z.ZodType, v, [...path, key], out));
  }
  if (def.type === 'array' && Array.isArray(value)) {
    const items = value.map((v, i) => walk(def.element as z.ZodType, v, [...path, i], out));
    return items.some((v, i) => v !== value[i]) ? items.filter((v) => v !== ABSENT) : value;
  }
  return value;
}

/** A copy only when something changed, so untouched blocks keep their identity. */
function mapObject(
  value: Record<string, unknown>,
  fn: (key: string, v: unknown) => unknown,
): Record<string, unknown> {
  let copy: Record<string, unknown> | undefined;
  for (const [key, v] of Object.entries(value)) {
    const next = fn(key, v);
    if (next === v) continue;
    copy ??= { ...value };
    if (next === ABSENT) delete copy[key];
    else copy[key] = next;
  }
  return copy ?? value;
}

/** Python's `str()` of what PyYAML gave for the scalar. */
export function pythonStr(value: unknown): string {
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'nan';
    if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
    return String(value);
  }
  if (value instanceof Date) {
    const iso = value.toISOString();
    // PyYAML gave a date for `2024-01-31` (str: the date alone) and a datetime otherwise.
    return iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : iso.replace('T', ' ').replace('Z', '+00:00');
  }
  return String(value);
}

function describe(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : pythonStr(value);
}

function kindOf(value: unknown): Kind {
  if (value === null || value === undefined) return 'null';
  if (value instanceof Date) return 'date';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'object') return 'object';
  return typeof value as Kind;
}

type Def = { type: string; [k: string]: unknown };
const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** The kinds of value the schema takes as they are. Enums and literals count as theirs only. */
function kindsOf(schema: z.ZodType): Set<Kind> {
  const def = defOf(schema);
  switch (def.type) {
    case 'string':
    case 'enum':
    case 'template_literal':
      return new Set(['string']);
    case 'number':
    case 'int':
    case 'bigint':
      return new Set(['number']);
    case 'boolean':
      return new Set(['boolean']);
    case 'object':
    case 'record':
      return new Set(['object']);
    case 'array':
      return new Set(['array']);
    case 'null':
      return new Set(['null']);
    case 'date':
      return new Set(['date']);
    case 'literal':
      return new Set((def.values as unknown[]).map(kindOf));
    case 'union':
      return new Set((def.options as z.ZodType[]).flatMap((o) => [...kindsOf(unwrap(o))]));
    default:
      return new Set(['any']); // lazy (JSON), any, unknown, custom: not ours to judge
  }
}

/**
 * Free text (a name, a password), not one of a few words: a number given where an enum is expected is
 * left to the schema to refuse, since no `str()` of it can be right.
 */
function takesText(schema: z.ZodType): boolean {
  const def = defOf(schema);
  if (def.type === 'string') return true;
  return def.type === 'union' && (def.options as z.ZodType[]).some((o) => takesText(unwrap(o)));
}

function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  for (;;) {
    const def = defOf(s);
    if (def.type === 'optional' || def.type === 'default' || def.type === 'prefault')
      s = def.innerType as z.ZodType;
    else if (def.type === 'nullable' || def.type === 'readonly' || def.type === 'catch')
      s = def.innerType as z.ZodType;
    else if (def.type === 'pipe') s = def.in as z.ZodType;
    else return s;
  }
}

function canBeAbsent(schema: z.ZodType): boolean {
  let s = schema;
  for (;;) {
    const def = defOf(s);
    if (def.type === 'optional' || def.type === 'default' || def.type === 'prefault') return true;
    if (def.type === 'pipe') s = def.in as z.ZodType;
    else if (def.type === 'readonly' || def.type === 'catch') s = def.innerType as z.ZodType;
    else return false;
  }
}
