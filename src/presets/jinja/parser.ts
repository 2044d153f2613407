import type { CallArgs, Expr, MacroDef, Node, Target } from './ast.js';
import { FILTERS } from './filters.js';
import { type Token, tokenize } from './lexer.js';
import { TemplateError } from './template-error.js';
import { TESTS } from './tests.js';

/** Deeper nesting than this is refused: it is never needed, and it would exhaust the stack. */
export const MAX_NESTING = 100;

/** Tags of Jinja2 that load other templates: a sandboxed userdata template has none to load. */
const LOADING_TAGS = new Set(['include', 'import', 'from', 'extends']);

/** Parses a template with Jinja2's grammar and operator precedence (jinja2/parser.py). */
export function parse(source: string): Node[] {
  return new Parser(tokenize(source)).parseTemplate();
}

class Parser {
  private i = 0;
  private depth = 0;
  /** Names read inside the macro being parsed, to know whether it takes varargs, kwargs or a caller. */
  private readonly macroNames: Set<string>[] = [];
  /**
   * Filters and tests that do not exist. Jinja2 refuses them when it compiles the template, except
   * directly inside an `if` block or an inline if-expression ("soft" frames), where it fails only if
   * the filter or test is reached. Loops, macros and blocks open frames that are not soft.
   */
  private readonly unknown: { what: string; name: string; line: number; soft: boolean }[] = [];
  private soft = false;

  constructor(private readonly tokens: Token[]) {}

  parseTemplate(): Node[] {
    const body = this.subparse([]);
    if (this.cur.type !== 'eof') throw this.fail(`unexpected '${this.cur.value}'`);
    const hard = this.unknown.find((u) => !u.soft);
    if (hard) throw this.fail(`no ${hard.what} named '${hard.name}'`, hard.line);
    return body;
  }

  private inFrame<T>(soft: boolean, fn: () => T): T {
    const saved = this.soft;
    this.soft = soft;
    try {
      return fn();
    } finally {
      this.soft = saved;
    }
  }

  private checkKnown(what: 'filter' | 'test', name: string, line: number): void {
    const known = what === 'filter' ? Object.hasOwn(FILTERS, name) : Object.hasOwn(TESTS, name);
    if (!known) this.unknown.push({ what, name, line, soft: this.soft });
  }

  private get cur(): Token {
    return this.tokens[this.i]!;
  }

  private peek(n = 1): Token {
    return this.tokens[Math.min(this.i + n, this.tokens.length - 1)]!;
  }

  private next(): Token {
    const t = this.cur;
    if (t.type !== 'eof') this.i++;
    return t;
  }

  private fail(message: string, line = this.cur.line): TemplateError {
    return new TemplateError('syntax', message, line);
  }

  private isOp(value: string): boolean {
    return this.cur.type === 'op' && this.cur.value === value;
  }

  private isName(value: string): boolean {
    return this.cur.type === 'name' && this.cur.value === value;
  }

  private skipOp(value: string): boolean {
    if (!this.isOp(value)) return false;
    this.i++;
    return true;
  }

  private skipName(value: string): boolean {
    if (!this.isName(value)) return false;
    this.i++;
    return true;
  }

  private expectOp(value: string): Token {
    if (!this.isOp(value)) throw this.fail(`expected '${value}', got '${this.describe()}'`);
    return this.next();
  }

  private expectName(value?: string): string {
    if (this.cur.type !== 'name' || (value !== undefined && this.cur.value !== value)) {
      throw this.fail(`expected ${value ? `'${value}'` : 'a name'}, got '${this.describe()}'`);
    }
    return this.next().value;
  }

  private expectType(type: Token['type']): Token {
    if (this.cur.type !== type) throw this.fail(`unexpected '${this.describe()}'`);
    return this.next();
  }

  private describe(): string {
    return this.cur.type === 'eof' ? 'end of template' : this.cur.value;
  }

  /** Nodes up to one of `endTags` (left as the current token, after its `{%`), or the end. */
  private subparse(endTags: string[]): Node[] {
    const body: Node[] = [];
    for (;;) {
      const t = this.cur;
      if (t.type === 'eof') {
        if (endTags.length > 0) {
          throw this.fail(`unexpected end of template, expected one of: ${endTags.join(', ')}`);
        }
        return body;
      }
      if (t.type === 'data') {
        body.push({ t: 'text', line: t.line, text: t.value });
        this.next();
      } else if (t.type === 'print_begin') {
        this.next();
        body.push({ t: 'output', line: t.line, expr: this.parseTuple() });
        this.expectType('print_end');
      } else if (t.type === 'block_begin') {
        const tag = this.peek();
        if (tag.type === 'name' && endTags.includes(tag.value)) {
          this.next();
          return body;
        }
        this.next();
        const node = this.parseStatement(endTags);
        if (node) body.push(node);
      } else {
        throw this.fail(`unexpected '${t.value}'`);
      }
    }
  }

  private endBlock(): void {
    this.expectType('block_end');
  }

  private parseStatement(endTags: string[]): Node | undefined {
    const tok = this.cur;
    if (tok.type !== 'name') throw this.fail('tag name expected');
    this.nest();
    try {
      switch (tok.value) {
        case 'if':
          return this.parseIf();
        case 'for':
          return this.parseFor();
        case 'set':
          return this.parseSet();
        case 'with':
          return this.parseWith();
        case 'macro':
          return this.parseMacro();
        case 'call':
          return this.parseCallBlock();
        case 'filter':
          return this.parseFilterBlock();
        case 'block':
          return this.parseBlock();
        case 'autoescape':
          return this.parseAutoescape();
        default:
          if (LOADING_TAGS.has(tok.value)) return this.parseLoad();
          throw this.fail(
            `encountered unknown tag '${tok.value}'${endTags.length ? `; expected one of: ${endTags.join(', ')}` : ''}`,
          );
      }
    } finally {
      this.depth--;
    }
  }

  private nest(): void {
    if (++this.depth > MAX_NESTING) {
      throw new TemplateError('depth', `nested more than ${MAX_NESTING} levels deep`, this.cur.line);
    }
  }

  private parseIf(): Node {
    return this.inFrame(true, () => this.parseIfChain());
  }

  private parseIfChain(): Node {
    const line = this.next().line;
    const test = this.parseTuple(false);
    this.endBlock();
    const body = this.subparse(['elif', 'else', 'endif']);
    // `elif` is left for the nested parseIf to consume, up to and including the chain's `endif`.
    if (this.isName('elif')) return { t: 'if', line, test, body, else: [this.parseIfChain()] };
    const tag = this.next().value;
    let elseBody: Node[] = [];
    if (tag === 'else') {
      this.endBlock();
      elseBody = this.subparse(['endif']);
      this.next();
    }
    this.endBlock();
    return { t: 'if', line, test, body, else: elseBody };
  }

  private parseFor(): Node {
    const line = this.next().line;
    const target = this.parseAssignTarget(['in']);
    this.expectName('in');
    const iter = this.parseTuple(false, ['recursive']);
    const filter = this.skipName('if') ? this.parseExpression() : undefined;
    const recursive = this.skipName('recursive');
    this.endBlock();
    const body = this.inFrame(false, () => this.subparse(['endfor', 'else']));
    let elseBody: Node[] = [];
    if (this.next().value === 'else') {
      this.endBlock();
      elseBody = this.inFrame(false, () => this.subparse(['endfor']));
      this.next();
    }
    this.endBlock();
    return { t: 'for', line, target, iter, ...(filter ? { filter } : {}), recursive, body, else: elseBody };
  }

  private parseSet(): Node {
    const line = this.next().line;
    const target = this.parseAssignTarget([], true);
    if (this.skipOp('=')) {
      const value = this.parseTuple();
      this.endBlock();
      return { t: 'set', line, target, value };
    }
    const filters = this.inFrame(false, () => this.parseFilterChain());
    this.endBlock();
    const body = this.inFrame(false, () => this.subparse(['endset']));
    this.next();
    this.endBlock();
    return { t: 'setblock', line, target, body, filters };
  }

  private parseWith(): Node {
    const line = this.next().line;
    const targets: [Target, Expr][] = [];
    while (this.cur.type !== 'block_end') {
      if (targets.length > 0) this.expectOp(',');
      const target = this.parseAssignTarget();
      this.expectOp('=');
      targets.push([target, this.parseExpression()]);
    }
    this.endBlock();
    const body = this.inFrame(false, () => this.subparse(['endwith']));
    this.next();
    this.endBlock();
    return { t: 'with', line, targets, body };
  }

  private parseMacro(): Node {
    const line = this.next().line;
    const name = this.expectName();
    const params = this.parseSignature();
    this.endBlock();
    const macro = this.parseMacroBody(name, params, 'endmacro');
    return { t: 'macro', line, macro };
  }

  private parseSignature(): MacroDef['params'] {
    const params: MacroDef['params'] = [];
    this.expectOp('(');
    while (!this.isOp(')')) {
      if (params.length > 0) this.expectOp(',');
      const pname = this.expectName();
      params.push(this.skipOp('=') ? { name: pname, default: this.parseExpression() } : { name: pname });
    }
    this.next();
    return params;
  }

  private parseMacroBody(name: string, params: MacroDef['params'], end: string): MacroDef {
    const names = new Set<string>();
    this.macroNames.push(names);
    const body = this.inFrame(false, () => this.subparse([end]));
    this.macroNames.pop();
    this.next();
    this.endBlock();
    return {
      name,
      params,
      body,
      catchVarargs: names.has('varargs'),
      catchKwargs: names.has('kwargs'),
      catchCaller: names.has('caller'),
    };
  }

  private parseCallBlock(): Node {
    const line = this.next().line;
    const params = this.isOp('(') ? this.parseSignature() : [];
    const call = this.parseExpression();
    if (call.t !== 'call') throw this.fail('expected call', line);
    this.endBlock();
    const caller = this.parseMacroBody('caller', params, 'endcall');
    return { t: 'callblock', line, call, caller };
  }

  private parseFilterBlock(): Node {
    const line = this.next().line;
    const filters = this.inFrame(false, () => this.parseFilterChain(true));
    this.endBlock();
    const body = this.inFrame(false, () => this.subparse(['endfilter']));
    this.next();
    this.endBlock();
    return { t: 'filterblock', line, filters, body };
  }

  private parseBlock(): Node {
    const line = this.next().line;
    this.expectName();
    this.skipName('scoped');
    this.skipName('required');
    this.endBlock();
    const body = this.inFrame(false, () => this.subparse(['endblock']));
    this.next();
    if (this.cur.type === 'name') this.next();
    this.endBlock();
    return { t: 'block', line, body };
  }

  private parseAutoescape(): Node {
    const line = this.next().line;
    const value = this.parseExpression();
    this.endBlock();
    const body = this.subparse(['endautoescape']);
    this.next();
    this.endBlock();
    return { t: 'autoescape', line, value, body };
  }

  /** include/import/from/extends: parsed to the end of the tag, refused when rendered as Jinja2 does. */
  private parseLoad(): Node {
    const tok = this.next();
    while (this.cur.type !== 'block_end' && this.cur.type !== 'eof') this.next();
    this.endBlock();
    return { t: 'load', line: tok.line, tag: tok.value };
  }

  /** `|f1(args)|f2` after `{% set x` or `{% filter`: filters applied to a value given later. */
  private parseFilterChain(first = false): Expr[] {
    const filters: Expr[] = [];
    while (first || this.skipOp('|')) {
      first = false;
      const line = this.cur.line;
      const name = this.parseDottedName();
      this.checkKnown('filter', name, line);
      const args = this.isOp('(') ? this.parseCallArgs() : emptyArgs();
      filters.push({ t: 'filter', line, name, value: null, args });
    }
    return filters;
  }

  private parseDottedName(): string {
    let name = this.expectName();
    while (this.skipOp('.')) name += `.${this.expectName()}`;
    return name;
  }

  private parseAssignTarget(extraEnd: string[] = [], allowNs = false): Target {
    if (allowNs && this.cur.type === 'name' && this.peek().type === 'op' && this.peek().value === '.') {
      const name = this.next().value;
      this.next();
      return { t: 'nsattr', name, attr: this.expectName() };
    }
    const items: Target[] = [];
    let tuple = false;
    const paren = this.skipOp('(');
    for (;;) {
      if (items.length > 0) {
        if (!this.skipOp(',')) break;
        tuple = true;
        if (this.isTupleEnd(extraEnd) || (paren && this.isOp(')'))) break;
      }
      if (this.isOp('(')) items.push(this.parseAssignTarget());
      else items.push({ t: 'name', name: this.checkAssignable(this.expectName()) });
    }
    if (paren) this.expectOp(')');
    return tuple || paren ? { t: 'tuple', items } : items[0]!;
  }

  private checkAssignable(name: string): string {
    if (['true', 'false', 'none', 'True', 'False', 'None'].includes(name)) {
      throw this.fail(`can't assign to '${name}'`);
    }
    return name;
  }

  private isTupleEnd(extraEnd: string[] = []): boolean {
    const t = this.cur;
    if (t.type === 'block_end' || t.type === 'print_end' || t.type === 'eof') return true;
    if (t.type === 'op' && (t.value === ')' || t.value === '=')) return true;
    return t.type === 'name' && extraEnd.includes(t.value);
  }

  /** A comma-separated expression list; more than one item (or a trailing comma) is a tuple. */
  private parseTuple(withCondexpr = true, extraEnd: string[] = [], explicitParens = false): Expr {
    const line = this.cur.line;
    const items: Expr[] = [];
    let isTuple = false;
    for (;;) {
      if (items.length > 0) this.expectOp(',');
      if (this.isTupleEnd(extraEnd)) break;
      items.push(withCondexpr ? this.parseExpression() : this.parseOr());
      if (this.isOp(',')) isTuple = true;
      else break;
    }
    if (!isTuple) {
      if (items.length > 0) return items[0]!;
      if (!explicitParens) throw this.fail(`expected an expression, got '${this.describe()}'`);
    }
    return { t: 'tuple', line, items };
  }

  parseExpression(): Expr {
    this.nest();
    try {
      return this.parseCondexpr();
    } finally {
      this.depth--;
    }
  }

  private parseCondexpr(): Expr {
    const mark = this.unknown.length;
    let expr = this.parseOr();
    while (this.isName('if')) {
      // An inline if makes a soft frame: its value part, parsed before the `if` was seen, too.
      for (const u of this.unknown.slice(mark)) u.soft = true;
      const line = this.next().line;
      const [test, otherwise] = this.inFrame(true, () => {
        const t = this.parseOr();
        return [t, this.skipName('else') ? this.parseCondexpr() : undefined] as const;
      });
      expr = { t: 'cond', line, test, yes: expr, ...(otherwise ? { no: otherwise } : {}) };
    }
    return expr;
  }

  private parseOr(): Expr {
    let left = this.parseAnd();
    while (this.isName('or')) {
      const line = this.next().line;
      left = { t: 'or', line, left, right: this.parseAnd() };
    }
    return left;
  }

  private parseAnd(): Expr {
    let left = this.parseNot();
    while (this.isName('and')) {
      const line = this.next().line;
      left = { t: 'and', line, left, right: this.parseNot() };
    }
    return left;
  }

  private parseNot(): Expr {
    if (this.isName('not')) {
      const line = this.next().line;
      return { t: 'unary', line, op: 'not', value: this.parseNot() };
    }
    return this.parseCompare();
  }

  private parseCompare(): Expr {
    const line = this.cur.line;
    const first = this.parseMath1();
    const ops: [string, Expr][] = [];
    for (;;) {
      const t = this.cur;
      if (t.type === 'op' && ['==', '!=', '<', '<=', '>', '>='].includes(t.value)) {
        this.next();
        ops.push([t.value, this.parseMath1()]);
      } else if (this.skipName('in')) {
        ops.push(['in', this.parseMath1()]);
      } else if (this.isName('not') && this.peek().type === 'name' && this.peek().value === 'in') {
        this.i += 2;
        ops.push(['notin', this.parseMath1()]);
      } else break;
    }
    return ops.length === 0 ? first : { t: 'compare', line, first, ops };
  }

  private parseMath1(): Expr {
    let left = this.parseConcat();
    while (this.isOp('+') || this.isOp('-')) {
      const tok = this.next();
      left = { t: 'binop', line: tok.line, op: tok.value, left, right: this.parseConcat() };
    }
    return left;
  }

  private parseConcat(): Expr {
    const line = this.cur.line;
    const items = [this.parseMath2()];
    while (this.skipOp('~')) items.push(this.parseMath2());
    return items.length === 1 ? items[0]! : { t: 'concat', line, items };
  }

  private parseMath2(): Expr {
    let left = this.parsePow();
    while (this.isOp('*') || this.isOp('/') || this.isOp('//') || this.isOp('%')) {
      const tok = this.next();
      left = { t: 'binop', line: tok.line, op: tok.value, left, right: this.parsePow() };
    }
    return left;
  }

  private parsePow(): Expr {
    let left = this.parseUnary();
    while (this.isOp('**')) {
      const tok = this.next();
      left = { t: 'binop', line: tok.line, op: '**', left, right: this.parseUnary() };
    }
    return left;
  }

  private parseUnary(withFilter = true): Expr {
    const tok = this.cur;
    let node: Expr;
    if (this.isOp('-') || this.isOp('+')) {
      this.next();
      this.nest();
      node = { t: 'unary', line: tok.line, op: tok.value as '-' | '+', value: this.parseUnary(false) };
      this.depth--;
    } else {
      node = this.parsePrimary();
    }
    node = this.parsePostfix(node);
    return withFilter ? this.parseFilterExpr(node) : node;
  }

  private parsePrimary(): Expr {
    const tok = this.cur;
    const line = tok.line;
    if (tok.type === 'name') {
      this.next();
      if (tok.value === 'true' || tok.value === 'True') return { t: 'const', line, value: true };
      if (tok.value === 'false' || tok.value === 'False') return { t: 'const', line, value: false };
      if (tok.value === 'none' || tok.value === 'None') return { t: 'const', line, value: null };
      this.macroNames.at(-1)?.add(tok.value);
      return { t: 'name', line, name: tok.value };
    }
    if (tok.type === 'string') {
      let value = '';
      while (this.cur.type === 'string') value += this.next().literal as string;
      return { t: 'const', line, value };
    }
    if (tok.type === 'int' || tok.type === 'float') {
      this.next();
      return {
        t: 'const',
        line,
        value: tok.literal as number,
        ...(tok.type === 'float' ? { float: true } : {}),
      };
    }
    if (this.skipOp('(')) {
      this.nest();
      const expr = this.parseTuple(true, [], true);
      this.depth--;
      this.expectOp(')');
      return expr;
    }
    if (this.isOp('[')) return this.parseList();
    if (this.isOp('{')) return this.parseDict();
    throw this.fail(`unexpected '${this.describe()}'`);
  }

  private parseList(): Expr {
    const line = this.next().line;
    this.nest();
    const items: Expr[] = [];
    while (!this.isOp(']')) {
      if (items.length > 0) this.expectOp(',');
      if (this.isOp(']')) break;
      items.push(this.parseExpression());
    }
    this.next();
    this.depth--;
    return { t: 'list', line, items };
  }

  private parseDict(): Expr {
    const line = this.next().line;
    this.nest();
    const pairs: [Expr, Expr][] = [];
    while (!this.isOp('}')) {
      if (pairs.length > 0) this.expectOp(',');
      if (this.isOp('}')) break;
      const key = this.parseExpression();
      this.expectOp(':');
      pairs.push([key, this.parseExpression()]);
    }
    this.next();
    this.depth--;
    return { t: 'dict', line, pairs };
  }

  private parsePostfix(node: Expr): Expr {
    for (;;) {
      if (this.isOp('.') || this.isOp('[')) node = this.parseSubscript(node);
      else if (this.isOp('('))
        node = { t: 'call', line: this.cur.line, fn: node, args: this.parseCallArgs() };
      else return node;
    }
  }

  private parseFilterExpr(node: Expr): Expr {
    for (;;) {
      if (this.isOp('|')) node = this.parseFilter(node);
      else if (this.isName('is')) node = this.parseTest(node);
      else if (this.isOp('('))
        node = { t: 'call', line: this.cur.line, fn: node, args: this.parseCallArgs() };
      else return node;
    }
  }

  private parseSubscript(node: Expr): Expr {
    const tok = this.next();
    const line = tok.line;
    if (tok.value === '.') {
      const attr = this.next();
      if (attr.type === 'name') return { t: 'getattr', line, obj: node, name: attr.value };
      if (attr.type !== 'int') throw this.fail('expected name or number', line);
      return { t: 'getitem', line, obj: node, key: { t: 'const', line, value: attr.literal as number } };
    }
    const keys: Expr[] = [];
    while (!this.isOp(']')) {
      if (keys.length > 0) this.expectOp(',');
      keys.push(this.parseSubscribed());
    }
    this.expectOp(']');
    const key = keys.length === 1 ? keys[0]! : { t: 'tuple' as const, line, items: keys };
    return { t: 'getitem', line, obj: node, key };
  }

  private parseSubscribed(): Expr {
    const line = this.cur.line;
    const parts: (Expr | undefined)[] = [];
    if (this.isOp(':')) {
      this.next();
      parts.push(undefined);
    } else {
      const expr = this.parseExpression();
      if (!this.skipOp(':')) return expr;
      parts.push(expr);
    }
    parts.push(this.isOp(']') || this.isOp(',') || this.isOp(':') ? undefined : this.parseExpression());
    if (this.skipOp(':')) {
      parts.push(this.isOp(']') || this.isOp(',') ? undefined : this.parseExpression());
    }
    const [start, stop, step] = parts;
    return {
      t: 'slice',
      line,
      ...(start ? { start } : {}),
      ...(stop ? { stop } : {}),
      ...(step ? { step } : {}),
    };
  }

  private parseCallArgs(): CallArgs {
    this.expectOp('(');
    const out: CallArgs = { args: [], kwargs: [] };
    let first = true;
    while (!this.isOp(')')) {
      if (!first) {
        this.expectOp(',');
        if (this.isOp(')')) break;
      }
      first = false;
      if (this.skipOp('**')) out.starstar = this.parseExpression();
      else if (this.skipOp('*')) out.star = this.parseExpression();
      else if (this.cur.type === 'name' && this.peek().type === 'op' && this.peek().value === '=') {
        const key = this.next().value;
        this.next();
        out.kwargs.push([key, this.parseExpression()]);
      } else {
        if (out.kwargs.length > 0 || out.starstar)
          throw this.fail('invalid syntax for function call expression');
        out.args.push(this.parseExpression());
      }
    }
    this.next();
    return out;
  }

  private parseFilter(node: Expr): Expr {
    while (this.skipOp('|')) {
      const line = this.cur.line;
      const name = this.parseDottedName();
      this.checkKnown('filter', name, line);
      const args = this.isOp('(') ? this.parseCallArgs() : emptyArgs();
      node = { t: 'filter', line, name, value: node, args };
    }
    return node;
  }

  private parseTest(node: Expr): Expr {
    const line = this.next().line;
    const negated = this.skipName('not');
    const name = this.parseDottedName();
    this.checkKnown('test', name, line);
    let args = emptyArgs();
    const t = this.cur;
    if (this.isOp('(')) args = this.parseCallArgs();
    else if (
      (['name', 'string', 'int', 'float'].includes(t.type) ||
        this.isOp('(') ||
        this.isOp('[') ||
        this.isOp('{')) &&
      !(t.type === 'name' && ['else', 'or', 'and'].includes(t.value))
    ) {
      if (this.isName('is')) throw this.fail('You cannot chain multiple tests with is');
      args = { args: [this.parsePostfix(this.parsePrimary())], kwargs: [] };
    }
    const test: Expr = { t: 'test', line, name, value: node, args };
    return negated ? { t: 'unary', line, op: 'not', value: test } : test;
  }
}

const emptyArgs = (): CallArgs => ({ args: [], kwargs: [] });
