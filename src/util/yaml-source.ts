import {
  type Document,
  type DocumentOptions,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  type ParseOptions,
  parseDocument,
  Scalar,
  type SchemaOptions,
  type Tags,
  visit,
} from 'yaml';
import type { ErrorCode } from '../errors/codes.js';
import { ShepherdError, type SourcePosition } from '../errors/shepherd-error.js';

type Path = readonly (string | number)[];

type TagLike = Tags[number];
type Resolvers = Record<string, RegExp>;

/**
 * PyYAML's implicit resolvers (YAML 1.1 as the original read every file), keyed by the `yaml` library's
 * tag and format. The library's own 1.1 schema differs where it matters to configs: it reads `y`/`n` as
 * booleans (so a key `n:` became `false`), `1e3` and `08` as numbers and `0:30` as 30; PyYAML kept all four
 * as strings.
 */
const PYYAML_RESOLVERS: Resolvers = {
  'tag:yaml.org,2002:bool true': /^(?:yes|Yes|YES|true|True|TRUE|on|On|ON)$/,
  'tag:yaml.org,2002:bool false': /^(?:no|No|NO|false|False|FALSE|off|Off|OFF)$/,
  'tag:yaml.org,2002:int ': /^[-+]?(?:0|[1-9][0-9_]*)$/,
  'tag:yaml.org,2002:int TIME': /^[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+$/,
  'tag:yaml.org,2002:float ': /^(?:[-+]?[0-9][0-9_]*\.[0-9_]*|\.[0-9][0-9_]*)$/,
  'tag:yaml.org,2002:float EXP': /^(?:[-+]?[0-9][0-9_]*\.[0-9_]*|\.[0-9][0-9_]*)[eE][-+][0-9]+$/,
};

function resolverKey(tag: TagLike): string {
  const t = tag as {
    tag: string;
    format?: string;
    test?: RegExp;
    identify?: (v: unknown) => boolean;
  };
  if (t.tag === 'tag:yaml.org,2002:bool') return `${t.tag} ${t.identify?.(true) ? 'true' : 'false'}`;
  // .inf and .nan have a tag of their own without a format, like plain floats: theirs is kept.
  if (t.test?.test('.nan')) return `${t.tag} NAN`;
  return `${t.tag} ${t.format ?? ''}`;
}

/** The library's YAML 1.1 tags with PyYAML's resolvers in place of its own. */
function pyyamlTags(tags: Tags): Tags {
  return tags.map((tag) => {
    const test = PYYAML_RESOLVERS[resolverKey(tag)];
    return test && typeof tag === 'object' && 'test' in tag ? { ...tag, test } : tag;
  }) as Tags;
}

/** A file that declares `%YAML 1.2` is read as 1.2; every other file as PyYAML (1.1) read it. */
export function declaresYaml12(text: string): boolean {
  const start = text.search(/^---/m); // directives come before the first `---`, which they require
  return start !== -1 && /^%YAML[ \t]+1\.2\b/m.test(text.slice(0, start));
}

function readOptions(yaml12: boolean): ParseOptions & DocumentOptions & SchemaOptions {
  if (yaml12) return { uniqueKeys: false };
  return { version: '1.1', merge: true, uniqueKeys: false, customTags: pyyamlTags };
}

/** The value of a YAML text read as the configuration files are (PyYAML's 1.1 unless it declares 1.2). */
export function readYaml(text: string): unknown {
  const doc = parseDocument(text, readOptions(declaresYaml12(text)));
  if (doc.errors[0]) throw doc.errors[0];
  return doc.toJS({ maxAliasCount: 1000 });
}

/**
 * A parsed YAML file that can point back into itself: every error about a value is reported with the
 * file, line and column of that value (or of its key, for unknown keys).
 */
export class YamlSource {
  private constructor(
    readonly file: string,
    private readonly doc: Document,
    private readonly lines: LineCounter,
    private readonly yaml12: boolean,
  ) {}

  /**
   * Parses `text` as PyYAML read the original's files (YAML 1.1: `yes`/`no`/`on`/`off`, `0755`, `1:30`,
   * merge keys `<<`), or as YAML 1.2 when it says `%YAML 1.2`. Syntax errors come back as errors, keys
   * given twice in one mapping as warnings (the last one wins, as in PyYAML); both with positions.
   */
  static parse(
    text: string,
    file: string,
    codes: { syntax: ErrorCode; duplicate: ErrorCode },
  ): { source?: YamlSource; errors: ShepherdError[]; warnings: ShepherdError[] } {
    const lines = new LineCounter();
    const yaml12 = declaresYaml12(text);
    const doc = parseDocument(text, { ...readOptions(yaml12), lineCounter: lines, prettyErrors: false });
    const errors = doc.errors.map((e) => {
      const { line, col } = lines.linePos(e.pos[0]);
      return new ShepherdError(codes.syntax, e.message.split('\n')[0], { at: { file, line, col }, cause: e });
    });
    if (errors.length > 0) return { errors, warnings: [] };
    const source = new YamlSource(file, doc, lines, yaml12);
    return { source, errors: [], warnings: source.duplicateKeys(codes.duplicate) };
  }

  /** Every key given again in the same mapping, at the later one (the one that wins). */
  private duplicateKeys(code: ErrorCode): ShepherdError[] {
    const warnings: ShepherdError[] = [];
    visit(this.doc, {
      Map: (_, map) => {
        const seen = new Map<unknown, number>();
        for (const pair of map.items) {
          if (!isScalar(pair.key)) continue;
          const key = pair.key.value;
          if (key === '<<' && pair.key.type === Scalar.PLAIN) continue; // merge keys may repeat
          const first = seen.get(key);
          const offset = pair.key.range?.[0] ?? 0;
          if (first !== undefined) {
            const earlier = this.at(first);
            warnings.push(
              new ShepherdError(code, `'${String(key)}' (also at line ${earlier.line}; this one is used)`, {
                at: this.at(offset),
                details: { key: String(key) },
              }),
            );
          }
          seen.set(key, offset);
        }
      },
    });
    return warnings;
  }

  toJS(): unknown {
    return this.doc.toJS({ maxAliasCount: 1000 }) ?? {};
  }

  /**
   * Paths of plain scalars written as floats with a whole value (`2.0`, `-0.0`): JavaScript reads them
   * as the numbers 2 and 0, but Python (and so a userdata template of the original) prints `2.0`.
   */
  wholeFloatPaths(): Path[] {
    const found: Path[] = [];
    const walk = (node: unknown, path: (string | number)[]) => {
      if (isMap(node)) {
        for (const pair of node.items) {
          if (isScalar(pair.key)) walk(pair.value, [...path, String(pair.key.value)]);
        }
      } else if (isSeq(node)) {
        for (const [i, item] of node.items.entries()) walk(item, [...path, i]);
      } else if (isScalar(node) && node.type === 'PLAIN' && typeof node.value === 'number') {
        const written = node.source ?? '';
        if (Number.isInteger(node.value) && /^[-+]?[0-9][0-9_]*\.[0-9_]*([eE][-+]?[0-9]+)?$/.test(written)) {
          found.push(path);
        }
      }
    };
    walk(this.doc.contents, []);
    return found;
  }

  /** Position of the value at `path`, or of the nearest ancestor that exists. */
  position(path: Path): SourcePosition {
    for (let depth = path.length; depth >= 0; depth--) {
      const node = this.doc.getIn(path.slice(0, depth), true) as Node | undefined;
      if (node?.range) return this.at(node.range[0]);
      if (depth === 0 && this.doc.contents?.range) return this.at(this.doc.contents.range[0]);
    }
    return { file: this.file, line: 1, col: 1 };
  }

  /** Position of the key (not the value) at `path`: where an unknown key is reported. */
  keyPosition(path: Path): SourcePosition {
    const parent = path.length > 1 ? this.doc.getIn(path.slice(0, -1), true) : this.doc.contents;
    const last = path[path.length - 1];
    if (isMap(parent)) {
      const pair = parent.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === last);
      if (pair && isScalar(pair.key) && pair.key.range) return this.at(pair.key.range[0]);
    }
    return this.position(path);
  }

  has(path: Path): boolean {
    return this.doc.hasIn(path);
  }

  /**
   * Replaces `${NAME}` and `${NAME:-default}` in string values (not keys) with the environment's value;
   * `$${` writes a literal `${`. An unquoted scalar that is entirely one variable is re-typed, so
   * `port: ${PG_PORT}` gives a number. Unset variables without a default are errors at their position.
   */
  interpolateEnv(env: NodeJS.ProcessEnv, missingCode: ErrorCode): ShepherdError[] {
    const errors: ShepherdError[] = [];
    visit(this.doc, {
      Scalar: (key, value) => {
        if (key === 'key' || typeof value.value !== 'string' || !value.value.includes('$')) return;
        const original = value.value;
        const missing: string[] = [];
        const replaced = original.replace(
          /\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g,
          (whole, escaped, name, dflt) => {
            if (escaped) return whole.slice(1);
            const v = env[name];
            if (v !== undefined && v !== '') return v;
            if (dflt !== undefined) return dflt;
            missing.push(name);
            return '';
          },
        );
        for (const name of missing) {
          errors.push(
            new ShepherdError(missingCode, `\${${name}}`, {
              at: this.at(value.range?.[0] ?? 0),
              details: { variable: name },
            }),
          );
        }
        if (replaced === original) return;
        const plainWholeVariable = value.type === Scalar.PLAIN && /^\$\{[^}]+\}$/.test(original);
        value.value = plainWholeVariable ? retype(replaced, this.yaml12) : replaced;
      },
    });
    return errors;
  }

  private at(offset: number): SourcePosition {
    const { line, col } = this.lines.linePos(offset);
    return { file: this.file, line, col };
  }
}

/** A variable's value read as the file's own scalars are (so `no` is false in a YAML 1.1 file). */
function retype(text: string, yaml12: boolean): unknown {
  const doc = parseDocument(text, readOptions(yaml12));
  if (doc.errors.length > 0) return text;
  const v = doc.toJS();
  return typeof v === 'number' || typeof v === 'boolean' ? v : text;
}
