import { LINE_BREAK } from './line-breaks.js';
import { TemplateError } from './template-error.js';

/**
 * Splits a template into tokens the way Jinja2's lexer does with the default Environment: `{{ }}`,
 * `{% %}`, `{# #}`, `-` trimming whitespace on that side, `+` accepted (it only matters with lstrip_blocks
 * and trim_blocks, which are off), `{% raw %}` kept verbatim, newlines normalised to `\n` and one
 * trailing newline dropped (keep_trailing_newline=False).
 */
export type TokenType =
  | 'data'
  | 'print_begin'
  | 'print_end'
  | 'block_begin'
  | 'block_end'
  | 'name'
  | 'string'
  | 'int'
  | 'float'
  | 'op'
  | 'eof';

export interface Token {
  type: TokenType;
  value: string;
  /** Parsed value of numbers and strings. */
  literal?: number | string;
  /** Integers whose digits show they were written as a float (`1.0`). */
  line: number;
}

const OPERATORS = [
  '//',
  '**',
  '==',
  '!=',
  '<=',
  '>=',
  '+',
  '-',
  '/',
  '*',
  '%',
  '~',
  '[',
  ']',
  '(',
  ')',
  '{',
  '}',
  '<',
  '>',
  '=',
  '.',
  ':',
  '|',
  ',',
  ';',
];
const FLOAT_RE = /(?:\d+_)*\d+(?:(?:\.(?:\d+_)*\d+)?[eE][+-]?(?:\d+_)*\d+|\.(?:\d+_)*\d+)/y;
const INT_RE = /0[bB](?:_?[01])+|0[oO](?:_?[0-7])+|0[xX](?:_?[\da-fA-F])+|[1-9](?:_?\d)*|0(?:_?0)*/y;
const NAME_RE = /[a-zA-Z_][a-zA-Z0-9_]*/y;
const STRING_RE = /'([^'\\]*(?:\\[\s\S][^'\\]*)*)'|"([^"\\]*(?:\\[\s\S][^"\\]*)*)"/y;
const WS_RE = /\s+/y;
const RAW_BEGIN = /\{%([-+]?)\s*raw\s*([-+]?)%\}/y;
const RAW_END = /\{%([-+]?)\s*endraw\s*([-+]?)%\}/g;

/** The source as Jinja2 sees it: `splitlines()` joined by `\n`, so a single trailing newline is gone. */
export function normalizeSource(source: string): string {
  const text = source.replace(LINE_BREAK, '\n');
  return text.endsWith('\n') ? text.slice(0, -1) : text;
}

export function tokenize(source: string): Token[] {
  return new Lexer(normalizeSource(source)).run();
}

class Lexer {
  private pos = 0;
  private line = 1;
  private readonly tokens: Token[] = [];
  /** The previous tag ended with `-`: strip the whitespace that starts the next text. */
  private lstripNext = false;

  constructor(private readonly src: string) {}

  run(): Token[] {
    while (this.pos < this.src.length) {
      const next = this.findTagStart(this.pos);
      const end = next === -1 ? this.src.length : next;
      const trimRight = next !== -1 && this.src[next + 2] === '-';
      this.pushData(this.src.slice(this.pos, end), trimRight);
      if (next === -1) break;
      this.pos = next;
      this.lexTag();
    }
    this.tokens.push({ type: 'eof', value: '', line: this.line });
    return this.tokens;
  }

  private findTagStart(from: number): number {
    let i = this.src.indexOf('{', from);
    while (i !== -1) {
      const c = this.src[i + 1];
      if (c === '{' || c === '%' || c === '#') return i;
      i = this.src.indexOf('{', i + 1);
    }
    return -1;
  }

  private pushData(raw: string, trimRight: boolean): void {
    let data = raw;
    if (this.lstripNext) data = data.replace(/^\s+/, '');
    if (trimRight) data = data.replace(/\s+$/, '');
    this.lstripNext = false;
    if (data) this.tokens.push({ type: 'data', value: data, line: this.line });
    this.line += countLines(raw);
  }

  private lexTag(): void {
    const kind = this.src[this.pos + 1];
    if (kind === '#') {
      this.lexComment();
      return;
    }
    if (kind === '%' && this.lexRaw()) return;
    const [begin, end, closer] =
      kind === '{'
        ? (['print_begin', 'print_end', '}}'] as const)
        : (['block_begin', 'block_end', '%}'] as const);
    const startLine = this.line;
    this.tokens.push({ type: begin, value: `{${kind}`, line: this.line });
    this.pos += 2;
    if (this.src[this.pos] === '-' || (kind === '%' && this.src[this.pos] === '+')) this.pos++;
    const depth: string[] = [];
    for (;;) {
      this.skipSpace();
      if (this.pos >= this.src.length) {
        throw new TemplateError('syntax', `unexpected end of template, expected '${closer}'`, startLine);
      }
      if (depth.length === 0) {
        const close = this.matchClose(closer);
        if (close) {
          this.tokens.push({ type: end, value: closer, line: this.line });
          return;
        }
      }
      this.lexExprToken(depth);
    }
  }

  /** `}}`, `-}}`, `%}`, `-%}`, `+%}`; a `-` close strips the whitespace that follows. */
  private matchClose(closer: string): boolean {
    const s = this.src;
    const sign = s[this.pos];
    if ((sign === '-' || (sign === '+' && closer === '%}')) && s.startsWith(closer, this.pos + 1)) {
      this.pos += 1 + closer.length;
      this.lstripNext = sign === '-';
      return true;
    }
    if (s.startsWith(closer, this.pos)) {
      this.pos += closer.length;
      return true;
    }
    return false;
  }

  private lexComment(): void {
    const end = this.src.indexOf('#}', this.pos + 2);
    if (end === -1) throw new TemplateError('syntax', 'missing end of comment tag', this.line);
    this.line += countLines(this.src.slice(this.pos, end));
    this.lstripNext = this.src[end - 1] === '-' && end - 1 > this.pos + 2;
    this.pos = end + 2;
  }

  /** `{% raw %}...{% endraw %}`: the text between is data, whatever it holds. */
  private lexRaw(): boolean {
    RAW_BEGIN.lastIndex = this.pos;
    const begin = RAW_BEGIN.exec(this.src);
    if (!begin) return false;
    RAW_END.lastIndex = RAW_BEGIN.lastIndex;
    const end = RAW_END.exec(this.src);
    if (!end) throw new TemplateError('syntax', "missing '{% endraw %}'", this.line);
    let data = this.src.slice(RAW_BEGIN.lastIndex, end.index);
    if (begin[2] === '-') data = data.replace(/^\s+/, '');
    if (end[1] === '-') data = data.replace(/\s+$/, '');
    if (data) this.tokens.push({ type: 'data', value: data, line: this.line });
    this.line += countLines(this.src.slice(this.pos, RAW_END.lastIndex));
    this.pos = RAW_END.lastIndex;
    this.lstripNext = end[2] === '-';
    return true;
  }

  private skipSpace(): void {
    WS_RE.lastIndex = this.pos;
    const m = WS_RE.exec(this.src);
    if (m) {
      this.line += countLines(m[0]);
      this.pos = WS_RE.lastIndex;
    }
  }

  private lexExprToken(depth: string[]): void {
    const line = this.line;
    const s = this.src;
    const prev = s[this.pos - 1];
    for (const [re, type] of [
      [FLOAT_RE, 'float'],
      [INT_RE, 'int'],
    ] as const) {
      if (type === 'float' && prev === '.') continue; // `a.0.1` is two subscripts, not a float
      re.lastIndex = this.pos;
      const m = re.exec(s);
      if (m) {
        this.pos = re.lastIndex;
        const digits = m[0].replace(/_/g, '');
        const literal = type === 'float' ? Number(digits) : parseInt_(digits);
        this.tokens.push({ type, value: m[0], literal, line });
        return;
      }
    }
    NAME_RE.lastIndex = this.pos;
    const name = NAME_RE.exec(s);
    if (name) {
      this.pos = NAME_RE.lastIndex;
      this.tokens.push({ type: 'name', value: name[0], line });
      return;
    }
    STRING_RE.lastIndex = this.pos;
    const str = STRING_RE.exec(s);
    if (str) {
      this.pos = STRING_RE.lastIndex;
      this.line += countLines(str[0]);
      this.tokens.push({
        type: 'string',
        value: str[0],
        literal: unescapePython(str[1] ?? str[2] ?? ''),
        line,
      });
      return;
    }
    const op = OPERATORS.find((o) => s.startsWith(o, this.pos));
    if (!op) throw new TemplateError('syntax', `unexpected char ${JSON.stringify(s[this.pos])}`, line);
    this.trackBrackets(op, depth, line);
    this.pos += op.length;
    this.tokens.push({ type: 'op', value: op, line });
  }

  /** Inside brackets a `}}` or `%}` does not close the tag (a dict literal, for one). */
  private trackBrackets(op: string, depth: string[], line: number): void {
    const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
    if (op === '(' || op === '[' || op === '{') depth.push(op);
    else if (pairs[op]) {
      if (depth.pop() !== pairs[op]) throw new TemplateError('syntax', `unexpected '${op}'`, line);
    }
  }
}

function countLines(s: string): number {
  let n = 0;
  for (let i = s.indexOf('\n'); i !== -1; i = s.indexOf('\n', i + 1)) n++;
  return n;
}

function parseInt_(digits: string): number {
  const prefix = digits.slice(0, 2).toLowerCase();
  if (prefix === '0b') return Number.parseInt(digits.slice(2), 2);
  if (prefix === '0o') return Number.parseInt(digits.slice(2), 8);
  if (prefix === '0x') return Number.parseInt(digits.slice(2), 16);
  return Number(digits);
}

const SIMPLE_ESCAPES: Record<string, string> = {
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\n': '',
};

/** Python's `unicode-escape` decoding of a string literal, which Jinja2 applies. */
function unescapePython(body: string): string {
  return body.replace(
    /\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{1,3}|[\s\S])/g,
    (whole, esc: string) => {
      const head = esc[0]!;
      if (head === 'x' || head === 'u' || head === 'U') {
        return String.fromCodePoint(Number.parseInt(esc.slice(1), 16));
      }
      if (/[0-7]/.test(head)) return String.fromCodePoint(Number.parseInt(esc, 8));
      return SIMPLE_ESCAPES[esc] ?? whole;
    },
  );
}
