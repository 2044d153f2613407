import {
  type Document,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  parse as parseYaml,
  Scalar,
  visit,
} from 'yaml';
import type { ErrorCode } from '../errors/codes.js';
import { ShepherdError, type SourcePosition } from '../errors/shepherd-error.js';

type Path = readonly (string | number)[];

/**
 * A parsed YAML file that can point back into itself: every error about a value is reported with the
 * file, line and column of that value (or of its key, for unknown keys).
 */
export class YamlSource {
  private constructor(
    readonly file: string,
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  /** Parses `text`; syntax errors come back as ShepherdErrors with positions. */
  static parse(
    text: string,
    file: string,
    syntaxCode: ErrorCode,
  ): { source?: YamlSource; errors: ShepherdError[] } {
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
    const errors = doc.errors.map((e) => {
      const { line, col } = lines.linePos(e.pos[0]);
      return new ShepherdError(syntaxCode, e.message.split('\n')[0], { at: { file, line, col }, cause: e });
    });
    if (errors.length > 0) return { errors };
    return { source: new YamlSource(file, doc, lines), errors: [] };
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
        value.value = plainWholeVariable ? retype(replaced) : replaced;
      },
    });
    return errors;
  }

  private at(offset: number): SourcePosition {
    const { line, col } = this.lines.linePos(offset);
    return { file: this.file, line, col };
  }
}

function retype(text: string): unknown {
  try {
    const v = parseYaml(text);
    return typeof v === 'number' || typeof v === 'boolean' ? v : text;
  } catch {
    return text;
  }
}
