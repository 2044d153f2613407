import { contains, failUndefined, isIterable, pyCompare, pyEq } from './operators.js';
import type { TestFn } from './runtime.js';
import { typeError } from './template-error.js';
import {
  DictView,
  isDict,
  isFloat,
  isInt,
  isNumber,
  isSequence,
  isString,
  Markup,
  num,
  PyCallable,
  PyObject,
  text,
  Undefined,
  type Value,
} from './values.js';

const arg = (args: Value[], i = 0): Value => args[i] ?? null;

function intValue(v: Value): number {
  if (v instanceof Undefined) failUndefined(v);
  if (!isNumber(v)) throw typeError(`unsupported operand type for %: '${typeof v}'`);
  return num(v);
}

const cmp =
  (pred: (c: number) => boolean): TestFn =>
  (_rt, v, a) =>
    pred(pyCompare(v, arg(a)));

/** Every built-in test of Jinja2 3.x (jinja2/tests.py), under the same names and aliases. */
export const TESTS: Record<string, TestFn> = {
  odd: (_rt, v) => intValue(v) % 2 !== 0,
  even: (_rt, v) => intValue(v) % 2 === 0,
  divisibleby: (_rt, v, a) => {
    const d = intValue(arg(a));
    if (d === 0) throw typeError('integer division or modulo by zero');
    return intValue(v) % d === 0;
  },
  defined: (_rt, v) => !(v instanceof Undefined),
  undefined: (_rt, v) => v instanceof Undefined,
  filter: (rt, v) => isString(v) && rt.hasFilter(text(v)),
  test: (rt, v) => isString(v) && rt.hasTest(text(v)),
  none: (_rt, v) => v === null,
  boolean: (_rt, v) => typeof v === 'boolean',
  false: (_rt, v) => v === false,
  true: (_rt, v) => v === true,
  integer: (_rt, v) => typeof v === 'number' && isInt(v),
  float: (_rt, v) => isFloat(v),
  lower: (_rt, v) => {
    const s = isString(v) ? text(v) : '';
    return s.toLowerCase() !== s.toUpperCase() && s === s.toLowerCase();
  },
  upper: (_rt, v) => {
    const s = isString(v) ? text(v) : '';
    return s.toLowerCase() !== s.toUpperCase() && s === s.toUpperCase();
  },
  string: (_rt, v) => isString(v),
  mapping: (_rt, v) => isDict(v),
  number: (_rt, v) => isNumber(v),
  // Python's test: len() and __getitem__; dict views have no __getitem__.
  sequence: (_rt, v) => isString(v) || (isSequence(v) && !(v instanceof DictView)) || isDict(v),
  iterable: (_rt, v) => isIterable(v),
  callable: (_rt, v) => v instanceof PyCallable || (v instanceof PyObject && v.invoke !== undefined),
  sameas: (_rt, v, a) => sameAs(v, arg(a)),
  escaped: (_rt, v) => v instanceof Markup,
  in: (_rt, v, a) => contains(arg(a), v),
  eq: (_rt, v, a) => pyEq(v, arg(a)),
  ne: (_rt, v, a) => !pyEq(v, arg(a)),
  lt: cmp((c) => c < 0),
  le: cmp((c) => c <= 0),
  gt: cmp((c) => c > 0),
  ge: cmp((c) => c >= 0),
};
TESTS['=='] = TESTS.eq!;
TESTS.equalto = TESTS.eq!;
TESTS['!='] = TESTS.ne!;
TESTS['<'] = TESTS.lt!;
TESTS.lessthan = TESTS.lt!;
TESTS['<='] = TESTS.le!;
TESTS['>'] = TESTS.gt!;
TESTS.greaterthan = TESTS.gt!;
TESTS['>='] = TESTS.ge!;

/**
 * Python's `is`: the same object. CPython shares True, False, None, the ints -5..256 and one-character
 * strings, so equality stands in for those; any other number or text from two places is two objects,
 * and a container is only the very same one.
 */
function sameAs(a: Value, b: Value): boolean {
  if (typeof a === 'boolean' || typeof b === 'boolean' || a === null || b === null) return a === b;
  if (typeof a === 'number' && typeof b === 'number')
    return isInt(a) && isInt(b) && a === b && a >= -5 && a <= 256;
  if (typeof a === 'string' && typeof b === 'string') return a === b && a.length <= 1;
  return a === b;
}
