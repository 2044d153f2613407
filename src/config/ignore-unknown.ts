import type { OptionIssue, OptionsResult } from '../drivers/types.js';
import { isPlainObject } from '../util/deep-merge.js';

type Path = (string | number)[];

/**
 * Parses `value` with a strict parser, dropping the unknown keys `ignorable` accepts (the original
 * ignored keys its code did not read) and parsing again. The dropped keys come back as `ignored`, to be
 * reported as warnings; every other issue stays in the result. Works with any driver's `parseOptions`,
 * plugins' too, since it needs nothing but their `unknownKey` issues.
 */
export function parseIgnoringUnknown<T>(
  parse: (value: Record<string, unknown>) => OptionsResult<T>,
  value: Record<string, unknown>,
  ignorable: (issue: OptionIssue) => boolean,
): { result: OptionsResult<T>; ignored: OptionIssue[]; value: Record<string, unknown> } {
  const ignored: OptionIssue[] = [];
  let current = value;
  // Each round removes at least one key, so the number of keys bounds it; 16 rounds is plenty for configs.
  for (let round = 0; round < 16; round++) {
    const result = parse(current);
    if (result.ok) return { result, ignored, value: current };
    const drop = result.issues.filter((i) => i.unknownKey !== undefined && ignorable(i));
    if (drop.length === 0) return { result, ignored, value: current };
    ignored.push(...drop);
    current = withoutPaths(
      current,
      drop.map((i) => i.path),
    );
  }
  return { result: parse(current), ignored, value: current };
}

/** A copy of `value` without the keys at `paths` (only the objects on the way are copied). */
export function withoutPaths(
  value: Record<string, unknown>,
  paths: readonly Path[],
): Record<string, unknown> {
  let out = value;
  for (const path of paths) out = without(out, path) as Record<string, unknown>;
  return out;
}

function without(value: unknown, path: Path): unknown {
  const [head, ...rest] = path;
  if (head === undefined) return value;
  if (Array.isArray(value) && typeof head === 'number' && rest.length > 0) {
    return value.map((v, i) => (i === head ? without(v, rest) : v));
  }
  if (!isPlainObject(value) || !Object.hasOwn(value, head)) return value;
  const copy = { ...value };
  if (rest.length === 0) delete copy[head];
  else copy[head] = without(value[head], rest);
  return copy;
}
