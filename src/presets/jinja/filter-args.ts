/** The argument handling that Jinja2's filters share: Python signatures, attribute getters, sorting. */

import { pyCompare } from './operators.js';
import { pyStr } from './python-str.js';
import type { Runtime } from './runtime.js';
import { isString, type Kwargs, PyTuple, text, Undefined, type Value } from './values.js';

/** Named and positional arguments of a filter, by Python signature order. */
export function params<const N extends readonly string[]>(
  args: Value[],
  kwargs: Kwargs,
  names: N,
  defaults: { [K in keyof N]: Value },
): { [K in keyof N]: Value } {
  return names.map((n, i) =>
    i < args.length ? args[i]! : Object.hasOwn(kwargs, n) ? kwargs[n]! : (defaults[i] as Value),
  ) as { [K in keyof N]: Value };
}

export const str = (v: Value): string => pyStr(v);
export const ignoreCase = (v: Value): Value => (typeof v === 'string' ? v.toLowerCase() : v);

/** Jinja2's make_attrgetter: `a.b.0` walks items then attributes, digits as list indexes. */
export function attrGetter(
  rt: Runtime,
  attribute: Value,
  post?: (v: Value) => Value,
  dflt: Value = null,
): (item: Value) => Value {
  const parts =
    attribute === null
      ? []
      : isString(attribute)
        ? text(attribute)
            .split('.')
            .map((p) => (/^\d+$/.test(p) ? Number(p) : p))
        : [attribute];
  return (item: Value) => {
    let v = item;
    for (const part of parts) v = rt.getitem(v, part);
    if (dflt !== null && v instanceof Undefined) v = dflt;
    return post ? post(v) : v;
  };
}

/** Several comma-separated attributes (`sort(attribute='group,name')`) compare as a tuple. */
export function multiAttrGetter(
  rt: Runtime,
  attribute: Value,
  post?: (v: Value) => Value,
): (item: Value) => Value {
  if (!isString(attribute) || !text(attribute).includes(',')) return attrGetter(rt, attribute, post);
  const getters = text(attribute)
    .split(',')
    .map((a) => attrGetter(rt, a, post));
  return (item) => new PyTuple(getters.map((g) => g(item)));
}

export function sortBy(rt: Runtime, items: Value[], key: (v: Value) => Value, reverse = false): Value[] {
  rt.charge(items.length * Math.ceil(Math.log2(items.length + 1)));
  const keyed = items.map((v) => [key(v), v] as const);
  keyed.sort((a, b) => (reverse ? pyCompare(b[0], a[0]) : pyCompare(a[0], b[0])));
  return keyed.map((k) => k[1]);
}
