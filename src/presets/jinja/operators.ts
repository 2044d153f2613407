import { charge } from './budget.js';
import { intStr } from './python-str.js';
import { TemplateError, typeError, undefinedError } from './template-error.js';
import {
  isDict,
  isFloat,
  isInt,
  isNumber,
  isSequence,
  isString,
  Markup,
  mkFloat,
  num,
  type PyFloat,
  PyTuple,
  text,
  typeName,
  Undefined,
  type Value,
} from './values.js';

/** Raises as Jinja2's Undefined does when a missing value is used for more than printing or testing. */
export function failUndefined(v: Undefined): never {
  if (v.unsafe) throw new TemplateError('security', `access to attribute '${v.hint}' is unsafe`);
  throw undefinedError(`'${v.hint}' is undefined`);
}

/** The items of anything a for loop or a filter may walk: list, tuple, dict keys, characters. */
export function iterate(v: Value): Value[] {
  if (Array.isArray(v)) return v;
  if (v instanceof PyTuple) return v.items;
  if (isDict(v)) return Object.keys(v);
  if (typeof v === 'string') return chars(v);
  if (v instanceof Markup) return chars(v.text);
  if (v instanceof Undefined) {
    if (v.unsafe) failUndefined(v);
    return [];
  }
  throw typeError(`'${typeName(v)}' object is not iterable`);
}

/** Python iterates code points, not UTF-16 units. */
export function chars(s: string): string[] {
  return /[\ud800-\udfff]/.test(s) ? Array.from(s) : s.split('');
}

export function length(v: Value): number {
  if (typeof v === 'string' || v instanceof Markup) return chars(text(v)).length;
  if (v instanceof Undefined) return 0;
  if (Array.isArray(v) || v instanceof PyTuple || isDict(v)) return iterate(v).length;
  throw typeError(`object of type '${typeName(v)}' has no len()`);
}

export function isIterable(v: Value): boolean {
  return isString(v) || isSequence(v) || isDict(v) || v instanceof Undefined;
}

/** Python's ==. */
export function pyEq(a: Value, b: Value): boolean {
  // The same object is equal to itself without a walk, as in CPython's list and dict comparison.
  if (a === b && typeof a === 'object') return true;
  charge(1);
  if (isNumber(a) && isNumber(b)) return num(a) === num(b);
  if (isString(a) && isString(b)) return text(a) === text(b);
  if (Array.isArray(a) && Array.isArray(b)) return seqEq(a, b);
  if (a instanceof PyTuple && b instanceof PyTuple) return seqEq(a.items, b.items);
  if (isDict(a) && isDict(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && pyEq(a[k]!, b[k]!));
  }
  if (a instanceof Undefined && b instanceof Undefined) return true;
  return a === b;
}

function seqEq(a: Value[], b: Value[]): boolean {
  return a.length === b.length && a.every((x, i) => pyEq(x, b[i]!));
}

/** Python's ordering: numbers with numbers, text with text, sequences item by item; else TypeError. */
export function pyCompare(a: Value, b: Value, op = '<'): number {
  charge(1);
  if (a instanceof Undefined) failUndefined(a);
  if (b instanceof Undefined) failUndefined(b);
  if (isNumber(a) && isNumber(b)) return Math.sign(num(a) - num(b));
  if (isString(a) && isString(b)) {
    const x = text(a);
    const y = text(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  const bothLists = Array.isArray(a) && Array.isArray(b);
  const bothTuples = a instanceof PyTuple && b instanceof PyTuple;
  if (bothLists || bothTuples) {
    const x = bothLists ? (a as Value[]) : (a as PyTuple).items;
    const y = bothLists ? (b as Value[]) : (b as PyTuple).items;
    for (let i = 0; i < Math.min(x.length, y.length); i++) {
      if (!pyEq(x[i]!, y[i]!)) return pyCompare(x[i]!, y[i]!, op);
    }
    return Math.sign(x.length - y.length);
  }
  throw typeError(`'${op}' not supported between instances of '${typeName(a)}' and '${typeName(b)}'`);
}

export function compareOp(op: string, a: Value, b: Value): boolean {
  switch (op) {
    case '==':
      return pyEq(a, b);
    case '!=':
      return !pyEq(a, b);
    case 'in':
      return contains(b, a);
    case 'notin':
      return !contains(b, a);
    case '<':
      return pyCompare(a, b, op) < 0;
    case '<=':
      return pyCompare(a, b, op) <= 0;
    case '>':
      return pyCompare(a, b, op) > 0;
    default:
      return pyCompare(a, b, op) >= 0;
  }
}

/** Python's `item in container`. */
export function contains(container: Value, item: Value): boolean {
  if (isString(container)) {
    if (!isString(item)) {
      throw typeError(`'in <string>' requires string as left operand, not ${typeName(item)}`);
    }
    return text(container).includes(text(item));
  }
  if (isDict(container)) {
    return isString(item)
      ? Object.hasOwn(container, text(item))
      : isInt(item) && Object.hasOwn(container, String(item));
  }
  return iterate(container).some((x) => pyEq(x, item));
}

type Num = number | PyFloat | boolean;

function operands(op: string, a: Value, b: Value): [number, number, boolean] | undefined {
  if (a instanceof Undefined) failUndefined(a);
  if (b instanceof Undefined) failUndefined(b);
  if (!isNumber(a) || !isNumber(b)) return undefined;
  return [num(a as Num), num(b as Num), isFloat(a) || isFloat(b) || op === '/'];
}

/** Python's +, -, *, /, //, %, ** on numbers (ints stay ints, `/` is always a float). */
export function arithmetic(op: string, a: Value, b: Value): Value | undefined {
  const o = operands(op, a, b);
  if (!o) return undefined;
  const [x, y, float] = o;
  if ((op === '/' || op === '//' || op === '%') && y === 0) {
    throw new TemplateError('type', float ? 'float division by zero' : 'division by zero');
  }
  let r: number;
  switch (op) {
    case '+':
      r = x + y;
      break;
    case '-':
      r = x - y;
      break;
    case '*':
      r = x * y;
      break;
    case '/':
      r = x / y;
      break;
    case '//':
      r = Math.floor(x / y);
      break;
    case '%':
      r = x - y * Math.floor(x / y);
      break;
    default:
      if (!float && y < 0) return mkFloat(x ** y);
      r = x ** y;
  }
  // `+ 0` turns JavaScript's -0 into the 0 a Python int would be.
  return float ? mkFloat(r) : r + 0;
}

/** The text of a number as an int, for error messages and `%d`. */
export const showInt = (n: number) => intStr(Math.trunc(n));
