import type { Expr, MacroDef, Node, Target } from './ast.js';
import { ExpressionParser, emptyArgs } from './expression-parser.js';
import { tokenize } from './lexer.js';

export { MAX_NESTING } from './token-cursor.js';

/** Tags of Jinja2 that load other templates: a sandboxed userdata template has none to load. */
const LOADING_TAGS = new Set(['include', 'import', 'from', 'extends']);

/** Parses a template with Jinja2's grammar and operator precedence (jinja2/parser.py). */
export function parse(source: string): Node[] {
  return new Parser(tokenize(source)).parseTemplate();
}

/** Jinja2's statements (`{% if %}`, `{% for %}`, macros, blocks…) over the expression parser. */
class Parser extends ExpressionParser {
  parseTemplate(): Node[] {
    const body = this.subparse([]);
    if (this.cur.type !== 'eof') throw this.fail(`unexpected '${this.cur.value}'`);
    const hard = this.unknown.find((u) => !u.soft);
    if (hard) throw this.fail(`no ${hard.what} named '${hard.name}'`, hard.line);
    return body;
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
}
