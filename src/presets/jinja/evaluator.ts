import type { CallArgs, Expr } from './ast.js';
import { escapeHtml } from './escape.js';
import { FILTERS } from './filters.js';
import { percentFormat } from './format.js';
import { MAX_RANGE, makeGlobals } from './globals.js';
import { methodOf } from './methods.js';
import { arithmetic, chars, compareOp, failUndefined, iterate } from './operators.js';
import { pySlice } from './py-slice.js';
import { pyStr } from './python-str.js';
import type { Runtime } from './runtime.js';
import { Scope } from './scope.js';
import { GroupTuple } from './sequence-filters.js';
import { TemplateError, typeError } from './template-error.js';
import { TESTS } from './tests.js';
import {
  DictView,
  dictGet,
  isDict,
  isInt,
  isNumber,
  isString,
  type Kwargs,
  Markup,
  mkFloat,
  newDict,
  num,
  PyCallable,
  PyFloat,
  PyObject,
  PyTuple,
  sizeOf,
  text,
  truthy,
  typeName,
  Undefined,
  type Value,
} from './values.js';

/** The limits that keep one template from stalling the daemon; each has its own error kind. */
export interface RenderLimits {
  /** Expression evaluations, statements, loop iterations and units of copying work. */
  maxSteps: number;
  /** Largest text the template may produce (the result, or any string built on the way), in bytes. */
  maxOutputBytes: number;
  /** Deepest macro calls and recursive loops. */
  maxDepth: number;
}

export const DEFAULT_LIMITS: RenderLimits = { maxSteps: 1_000_000, maxOutputBytes: 64 * 1024, maxDepth: 100 };

/** Output being written, with its size checked at every write. */
export class Out {
  private readonly parts: string[] = [];
  private size = 0;
  constructor(private readonly limit: number) {}
  write(s: string): void {
    this.size += s.length;
    if (this.size > this.limit) throw outputError(this.limit);
    this.parts.push(s);
  }
  toString(): string {
    return this.parts.join('');
  }
}

export const outputError = (limit: number) =>
  new TemplateError('output', `the rendered text would exceed the output limit of ${limit} bytes`);

/**
 * Evaluates expressions as Jinja2's generated code would, within the limits: the runtime that filters,
 * tests, methods and globals call back into. The Renderer adds statements.
 */
export class Evaluator implements Runtime {
  protected steps = 0;
  protected depth = 0;
  /** Inside `{% autoescape true %}`: printed values are HTML-escaped unless they are Markup. */
  protected autoescape = false;
  protected readonly globals: Map<string, Value>;
  protected readonly root: Scope;

  constructor(
    context: Record<string, unknown>,
    protected readonly limits: RenderLimits,
  ) {
    this.globals = makeGlobals(this);
    // The context is JSON-like data, which is exactly the Value shapes without the engine's own classes.
    const data = context as Record<string, Value>;
    this.root = new Scope(undefined, (name) =>
      Object.hasOwn(data, name) ? data[name] : this.globals.get(name),
    );
  }

  // --- budget -------------------------------------------------------------------------------------

  protected tick(): void {
    if (++this.steps > this.limits.maxSteps) {
      throw new TemplateError(
        'steps',
        `the template took more than ${this.limits.maxSteps} evaluation steps`,
      );
    }
  }

  /**
   * One step per character or item walked, as measured: filters such as urlize or wordwrap spend about
   * as long on one character as the loop machinery spends on one step, so the step limit caps time.
   */
  charge(size: number): void {
    this.steps += Math.floor(size);
    this.tick();
  }

  checkLength(length: number): void {
    if (length > this.limits.maxOutputBytes) throw outputError(this.limits.maxOutputBytes);
  }

  checkItems(count: number): void {
    if (count > MAX_RANGE) {
      throw new TemplateError('range', `a list of ${count} items is larger than MAX_RANGE (${MAX_RANGE})`);
    }
  }

  protected enter(): void {
    if (++this.depth > this.limits.maxDepth) {
      throw new TemplateError(
        'depth',
        `macros or recursive loops nested more than ${this.limits.maxDepth} deep`,
      );
    }
  }

  eval(e: Expr, scope: Scope): Value {
    this.tick();
    switch (e.t) {
      case 'const':
        return e.float ? mkFloat(e.value as number) : e.value;
      case 'name': {
        const v = scope.lookup(e.name);
        return v === undefined ? new Undefined(e.name) : v;
      }
      case 'list':
        return e.items.map((x) => this.eval(x, scope));
      case 'tuple':
        return new PyTuple(e.items.map((x) => this.eval(x, scope)));
      case 'dict':
        return newDict(e.pairs.map(([k, v]) => [dictKey(this.eval(k, scope)), this.eval(v, scope)]));
      case 'getattr':
        return this.getattr(this.eval(e.obj, scope), e.name);
      case 'getitem':
        return e.key.t === 'slice'
          ? this.slice(this.eval(e.obj, scope), e.key, scope)
          : this.getitem(this.eval(e.obj, scope), this.eval(e.key, scope));
      case 'slice':
        throw typeError('a slice is only valid in a subscript');
      case 'call': {
        const fn = this.eval(e.fn, scope);
        const [args, kwargs] = this.evalArgs(e.args, scope);
        return this.call(fn, args, kwargs);
      }
      case 'filter': {
        const value = e.value ? this.eval(e.value, scope) : null;
        const [args, kwargs] = this.evalArgs(e.args, scope);
        return this.applyFilter(e.name, value, args, kwargs);
      }
      case 'test': {
        const value = this.eval(e.value, scope);
        const [args, kwargs] = this.evalArgs(e.args, scope);
        return this.applyTest(e.name, value, args, kwargs);
      }
      case 'binop':
        return this.binop(e.op, this.eval(e.left, scope), this.eval(e.right, scope));
      case 'unary':
        return this.unary(e.op, this.eval(e.value, scope));
      case 'and': {
        const left = this.eval(e.left, scope);
        return truthy(left) ? this.eval(e.right, scope) : left;
      }
      case 'or': {
        const left = this.eval(e.left, scope);
        return truthy(left) ? left : this.eval(e.right, scope);
      }
      case 'compare': {
        let left = this.eval(e.first, scope);
        for (const [op, rightExpr] of e.ops) {
          const right = this.eval(rightExpr, scope);
          if (!compareOp(op, left, right)) return false;
          left = right;
        }
        return true;
      }
      case 'concat': {
        const parts = e.items.map((x) => pyStr(this.eval(x, scope)));
        const total = parts.reduce((n, p) => n + p.length, 0);
        this.checkLength(total);
        // JavaScript joins text without copying it all, so joining costs less than walking it.
        this.charge(total / 16);
        return parts.join('');
      }
      case 'cond':
        if (truthy(this.eval(e.test, scope))) return this.eval(e.yes, scope);
        return e.no ? this.eval(e.no, scope) : new Undefined('the inline if-expression evaluated to false');
    }
  }

  protected evalArgs(a: CallArgs, scope: Scope): [Value[], Kwargs] {
    const args = a.args.map((x) => this.eval(x, scope));
    if (a.star) args.push(...iterate(this.eval(a.star, scope)));
    const kwargs: Kwargs = {};
    for (const [k, v] of a.kwargs) kwargs[k] = this.eval(v, scope);
    if (a.starstar) {
      const d = this.eval(a.starstar, scope);
      if (!isDict(d)) throw typeError('argument after ** must be a mapping');
      for (const k of Object.keys(d)) kwargs[k] = d[k]!;
    }
    return [args, kwargs];
  }

  binop(op: string, a: Value, b: Value): Value {
    const n = arithmetic(op, a, b);
    if (n !== undefined) return n;
    if (op === '+') return this.add(a, b);
    if (op === '*') {
      if (isInt(b) && (isString(a) || Array.isArray(a) || a instanceof PyTuple))
        return this.repeat(a, num(b));
      if (isInt(a) && (isString(b) || Array.isArray(b) || b instanceof PyTuple))
        return this.repeat(b, num(a));
    }
    if (op === '%' && isString(a)) {
      const s = percentFormat(this, text(a), b);
      return a instanceof Markup ? new Markup(s) : s;
    }
    throw typeError(`unsupported operand type(s) for ${op}: '${typeName(a)}' and '${typeName(b)}'`);
  }

  protected add(a: Value, b: Value): Value {
    if (isString(a) && isString(b)) {
      this.checkLength(text(a).length + text(b).length);
      this.charge((text(a).length + text(b).length) / 16);
      // Markup + str escapes the str, as markupsafe does; autoescape is off, so str + str stays str.
      if (a instanceof Markup || b instanceof Markup)
        return new Markup(escapeHtml(a).text + escapeHtml(b).text);
      return (a as string) + (b as string);
    }
    if (Array.isArray(a) && Array.isArray(b)) {
      this.checkItems(a.length + b.length);
      this.charge(a.length + b.length);
      return [...a, ...b];
    }
    if (a instanceof PyTuple && b instanceof PyTuple) {
      this.checkItems(a.items.length + b.items.length);
      return new PyTuple([...a.items, ...b.items]);
    }
    throw typeError(`can only concatenate ${typeName(a)} (not "${typeName(b)}") to ${typeName(a)}`);
  }

  protected repeat(v: string | Markup | Value[] | PyTuple, times: number): Value {
    const n = Math.max(0, times);
    if (isString(v)) {
      this.checkLength(text(v).length * n);
      this.charge((text(v).length * n) / 16);
      const s = text(v).repeat(n);
      return v instanceof Markup ? new Markup(s) : s;
    }
    const items = Array.isArray(v) ? v : v.items;
    this.checkItems(items.length * n);
    this.charge(items.length * n);
    const out: Value[] = [];
    for (let i = 0; i < n; i++) out.push(...items);
    return Array.isArray(v) ? out : new PyTuple(out);
  }

  protected unary(op: string, v: Value): Value {
    if (op === 'not') return !truthy(v);
    if (v instanceof Undefined) failUndefined(v);
    if (!isNumber(v)) throw typeError(`bad operand type for unary ${op}: '${typeName(v)}'`);
    const n = op === '-' ? -num(v) : num(v);
    return isInt(v) ? n + 0 : v instanceof PyFloat || Number.isInteger(n) ? mkFloat(n) : n;
  }

  protected slice(obj: Value, s: Extract<Expr, { t: 'slice' }>, scope: Scope): Value {
    const bound = (x: Expr | undefined): number | undefined => {
      if (!x) return undefined;
      const v = this.eval(x, scope);
      if (v === null) return undefined;
      if (!isInt(v)) throw typeError('slice indices must be integers or None');
      return num(v);
    };
    const [start, stop, step] = [bound(s.start), bound(s.stop), bound(s.step) ?? 1];
    if (step === 0) throw typeError('slice step cannot be zero');
    if (obj instanceof Undefined) failUndefined(obj);
    const items = isString(obj)
      ? chars(text(obj))
      : Array.isArray(obj)
        ? obj
        : obj instanceof PyTuple
          ? obj.items
          : null;
    if (!items) throw typeError(`'${typeName(obj)}' object is not subscriptable`);
    const picked = pySlice(items as Value[], start, stop, step);
    this.charge(picked.length);
    if (isString(obj)) return picked.join('');
    return Array.isArray(obj) ? picked : new PyTuple(picked);
  }

  // --- Runtime: attribute access under the sandbox rules ---------------------------------------------

  getattr(obj: Value, name: string): Value {
    if (obj instanceof Undefined) failUndefined(obj);
    if (name.startsWith('_')) {
      // Every Python object has dunder attributes, and the sandbox refuses them all; a name such as
      // `_x` is no attribute of a plain value, so only a dict key of that name can answer.
      if (name.startsWith('__') && name.endsWith('__')) return new Undefined(name, true);
      return isDict(obj) ? (dictGet(obj, name) ?? new Undefined(name)) : new Undefined(name);
    }
    const method = methodOf(this, obj, name);
    if (method) return method;
    if (isDict(obj)) return dictGet(obj, name) ?? new Undefined(name);
    if (obj instanceof GroupTuple) {
      if (name === 'grouper') return obj.items[0]!;
      if (name === 'list') return obj.items[1]!;
    }
    if (obj instanceof PyObject) return obj.attr(name) ?? new Undefined(name);
    return new Undefined(name);
  }

  getitem(obj: Value, key: Value): Value {
    if (obj instanceof Undefined) failUndefined(obj);
    if (isDict(obj)) {
      const k = isString(key) ? text(key) : isInt(key) && typeof key === 'number' ? String(key) : undefined;
      const v = k === undefined ? undefined : dictGet(obj, k);
      if (v !== undefined) return v;
    } else if (
      isInt(key) &&
      (isString(obj) || Array.isArray(obj) || obj instanceof PyTuple) &&
      !(obj instanceof DictView)
    ) {
      const items = isString(obj) ? chars(text(obj)) : Array.isArray(obj) ? obj : obj.items;
      const i = num(key);
      const v = items[i < 0 ? items.length + i : i];
      return v === undefined ? new Undefined(`index ${i}`) : v;
    }
    return isString(key) ? this.getattr(obj, text(key)) : new Undefined(pyStr(key));
  }

  call(fn: Value, args: Value[], kwargs: Kwargs): Value {
    this.tick();
    if (fn instanceof PyCallable) return fn.call(args, kwargs);
    if (fn instanceof PyObject && fn.invoke) return fn.invoke(args, kwargs);
    if (fn instanceof Undefined) failUndefined(fn);
    throw typeError(`'${typeName(fn)}' object is not callable`);
  }

  hasFilter(name: string): boolean {
    return Object.hasOwn(FILTERS, name);
  }

  hasTest(name: string): boolean {
    return Object.hasOwn(TESTS, name);
  }

  applyFilter(name: string, value: Value, args: Value[], kwargs: Kwargs): Value {
    if (!this.hasFilter(name)) throw new TemplateError('syntax', `no filter named '${name}'`);
    // A filter walks its input: its cost grows with the text or list it is given.
    this.charge(sizeOf(value));
    return FILTERS[name]!(this, value, args, kwargs);
  }

  applyTest(name: string, value: Value, args: Value[], kwargs: Kwargs): boolean {
    if (!this.hasTest(name)) throw new TemplateError('syntax', `no test named '${name}'`);
    this.tick();
    return TESTS[name]!(this, value, args, kwargs);
  }
}

function dictKey(k: Value): string {
  if (isString(k)) return text(k);
  if (isNumber(k) || k === null) return pyStr(k);
  throw typeError(`unhashable type: '${typeName(k)}'`);
}
