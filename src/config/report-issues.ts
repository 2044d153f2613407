import type { OptionIssue } from '../drivers/types.js';
import type { ErrorCode } from '../errors/codes.js';
import { ShepherdError } from '../errors/shepherd-error.js';
import { didYouMean } from '../util/suggest.js';
import type { YamlSource } from '../util/yaml-source.js';

type Path = (string | number)[];

/** Where a value of a validated object came from: the first layer that has the path wins. */
export interface SourceLayer {
  source: YamlSource;
  /** Path of the validated object inside this source, e.g. ['defaults'] for the main config's defaults. */
  prefix: Path;
}

export interface IssueCodes {
  invalid: ErrorCode;
  unknown: ErrorCode;
}

/**
 * Turns option issues into errors pointing at file:line:col. `layers` are tried in order, so a merged
 * preset's issue points into the preset file when the key is there, else into the main config's defaults.
 * Keys moved out of the original's `driver_params:` sub-block are found there too.
 */
export function issuesToErrors(
  issues: readonly OptionIssue[],
  layers: readonly SourceLayer[],
  codes: IssueCodes,
  blockPath: Path = [],
  extraKnownKeys: readonly string[] = [],
): ShepherdError[] {
  return issues.map((issue) => {
    const path = [...blockPath, ...issue.path];
    const at = locate(path, layers, issue.unknownKey !== undefined, blockPath);
    if (issue.unknownKey !== undefined) {
      const known = [...(issue.knownKeys ?? []), ...extraKnownKeys];
      return new ShepherdError(codes.unknown, `'${dotted(path)}'${didYouMean(issue.unknownKey, known)}`, {
        at,
        details: { key: issue.unknownKey, path: dotted(path) },
      });
    }
    return new ShepherdError(codes.invalid, `${dotted(path) || '(document)'}: ${issue.message}`, {
      at,
      details: { path: dotted(path) },
    });
  });
}

/**
 * Warnings about issues (ignored keys, converted values), at file:line:col like errors. `describe` writes
 * the text: it should not depend on the layer, so a key of the main config's defaults reported by many
 * presets reads the same each time and is shown once.
 */
export function issueWarnings(
  issues: readonly OptionIssue[],
  layers: readonly SourceLayer[],
  code: ErrorCode,
  blockPath: Path,
  describe: (issue: OptionIssue) => string,
): ShepherdError[] {
  return issues.map((issue) => {
    const path = [...blockPath, ...issue.path];
    const at = locate(path, layers, issue.unknownKey !== undefined, blockPath);
    return new ShepherdError(code, describe(issue), {
      at,
      details: { path: dotted(path), ...(issue.unknownKey ? { key: issue.unknownKey } : {}) },
    });
  });
}

/** Under `strict` (`check --strict`, `strict: true`) the warnings are errors: same code, text and position. */
export function strictly<T extends { errors: ShepherdError[]; warnings: ShepherdError[] }>(
  result: T,
  strict: boolean | undefined,
): T {
  if (!strict || result.warnings.length === 0) return result;
  return { ...result, errors: [...result.errors, ...result.warnings.map((w) => w.asError())], warnings: [] };
}

/** The same problem reported through several presets (a key of the shared defaults) kept once. */
export function uniqueProblems(problems: readonly ShepherdError[]): ShepherdError[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.severity} ${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function locate(path: Path, layers: readonly SourceLayer[], isKey: boolean, blockPath: Path) {
  const candidates = [path];
  if (blockPath.length > 0 && path.length > blockPath.length) {
    candidates.push([...blockPath, 'driver_params', ...path.slice(blockPath.length)]);
  }
  for (const candidate of candidates) {
    for (const { source, prefix } of layers) {
      const full = [...prefix, ...candidate];
      if (source.has(full)) return isKey ? source.keyPosition(full) : source.position(full);
    }
  }
  // Not written anywhere (e.g. a required key that is missing): point at the nearest existing parent.
  const first = layers[0];
  return first ? first.source.position([...first.prefix, ...path]) : undefined;
}

export function dotted(path: readonly (string | number)[]): string {
  return path
    .map((p) => (typeof p === 'number' ? `[${p}]` : p))
    .join('.')
    .replace(/\.\[/g, '[');
}
