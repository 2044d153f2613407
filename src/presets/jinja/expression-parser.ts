import type { CallArgs, Expr } from './ast.js';
import { FILTERS } from './filters.js';
import { TESTS } from './tests.js';
import { TokenCursor } from './token-cursor.js';

/** Jinja2's expressions with its operator precedence (jinja2/parser.py); statements build on it. */
export class ExpressionParser extends TokenCursor {
  /** Names read inside the macro being parsed, to know whether it takes varargs, kwargs or a caller. */
  protected readonly macroNames: Set<string>[] = [];
  /**
   * Filters and tests that do not exist. Jinja2 refuses them when it compiles the template, except
   * directly inside an `if` block or an inline if-expression ("soft" frames), where it fails only if
   * the filter or test is reached. Loops, macros and blocks open frames that are not soft.
   */
  protected readonly unknown: { what: string; name: string; line: number; soft: boolean }[] = [];
  protected soft = false;

  protected inFrame<T>(soft: boolean, fn: () => T): T {
    const saved = this.soft;
    this.soft = soft;
    try {
      return fn();
    } finally {
      this.soft = saved;
    }
  }

  protected checkKnown(what: 'filter' | 'test', name: string, line: number): void {
    const known = what === 'filter' ? Object.hasOwn(FILTERS, name) : Object.hasOwn(TESTS, name);
    if (!known) this.unknown.push({ what, name, line, soft: this.soft });
  }

  protected parseDottedName(): string {
    let name = this.expectName();
    while (this.skipOp('.')) name += `.${this.expectName()}`;
    return name;
  }
  protected isTupleEnd(extraEnd: string[] = []): boolean {
    const t = this.cur;
    if (t.type === 'block_end' || t.type === 'print_end' || t.type === 'eof') return true;
    if (t.type === 'op' && (t.value === ')' || t.value === '=')) return true;
    return t.type === 'name' && extraEnd.includes(t.value);
  }

  /** A comma-separated expression list; more than one item (or a trailing comma) is a tuple. */
  protected parseTuple(withCondexpr = true, extraEnd: string[] = [], explicitParens = false): Expr {
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

  protected parseCondexpr(): Expr {
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

  protected parseOr(): Expr {
    let left = this.parseAnd();
    while (this.isName('or')) {
      const line = this.next().line;
      left = { t: 'or', line, left, right: this.parseAnd() };
    }
    return left;
  }

  protected parseAnd(): Expr {
    let left = this.parseNot();
    while (this.isName('and')) {
      const line = this.next().line;
      left = { t: 'and', line, left, right: this.parseNot() };
    }
    return left;
  }

  protected parseNot(): Expr {
    if (this.isName('not')) {
      const line = this.next().line;
      return { t: 'unary', line, op: 'not', value: this.parseNot() };
    }
    return this.parseCompare();
  }

  protected parseCompare(): Expr {
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

  protected parseMath1(): Expr {
    let left = this.parseConcat();
    while (this.isOp('+') || this.isOp('-')) {
      const tok = this.next();
      left = { t: 'binop', line: tok.line, op: tok.value, left, right: this.parseConcat() };
    }
    return left;
  }

  protected parseConcat(): Expr {
    const line = this.cur.line;
    const items = [this.parseMath2()];
    while (this.skipOp('~')) items.push(this.parseMath2());
    return items.length === 1 ? items[0]! : { t: 'concat', line, items };
  }

  protected parseMath2(): Expr {
    let left = this.parsePow();
    while (this.isOp('*') || this.isOp('/') || this.isOp('//') || this.isOp('%')) {
      const tok = this.next();
      left = { t: 'binop', line: tok.line, op: tok.value, left, right: this.parsePow() };
    }
    return left;
  }

  protected parsePow(): Expr {
    let left = this.parseUnary();
    while (this.isOp('**')) {
      const tok = this.next();
      left = { t: 'binop', line: tok.line, op: '**', left, right: this.parseUnary() };
    }
    return left;
  }

  protected parseUnary(withFilter = true): Expr {
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

  protected parsePrimary(): Expr {
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

  protected parseList(): Expr {
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

  protected parseDict(): Expr {
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

  protected parsePostfix(node: Expr): Expr {
    for (;;) {
      if (this.isOp('.') || this.isOp('[')) node = this.parseSubscript(node);
      else if (this.isOp('('))
        node = { t: 'call', line: this.cur.line, fn: node, args: this.parseCallArgs() };
      else return node;
    }
  }

  protected parseFilterExpr(node: Expr): Expr {
    for (;;) {
      if (this.isOp('|')) node = this.parseFilter(node);
      else if (this.isName('is')) node = this.parseTest(node);
      else if (this.isOp('('))
        node = { t: 'call', line: this.cur.line, fn: node, args: this.parseCallArgs() };
      else return node;
    }
  }

  protected parseSubscript(node: Expr): Expr {
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

  protected parseSubscribed(): Expr {
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

  protected parseCallArgs(): CallArgs {
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

  protected parseFilter(node: Expr): Expr {
    while (this.skipOp('|')) {
      const line = this.cur.line;
      const name = this.parseDottedName();
      this.checkKnown('filter', name, line);
      const args = this.isOp('(') ? this.parseCallArgs() : emptyArgs();
      node = { t: 'filter', line, name, value: node, args };
    }
    return node;
  }

  protected parseTest(node: Expr): Expr {
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

export const emptyArgs = (): CallArgs => ({ args: [], kwargs: [] });
