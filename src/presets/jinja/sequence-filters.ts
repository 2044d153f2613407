/** Jinja2's filters over lists and dicts: select/reject, min/max, unique, groupby, dictsort, batch, slice, sum, map. */
import { escapeHtml } from './escape.js';
import { attrGetter, ignoreCase, params, sortBy, str } from './filter-args.js';
import { chars, iterate, pyCompare, pyEq } from './operators.js';
import { pyRepr } from './python-str.js';
import type { Runtime } from './runtime.js';
import { TemplateError, typeError } from './template-error.js';
import {
  isDict,
  isString,
  type Kwargs,
  Markup,
  PyTuple,
  text,
  truthy,
  Undefined,
  type Value,
} from './values.js';

export function selectOrReject(
  rt: Runtime,
  value: Value,
  args: Value[],
  kwargs: Kwargs,
  keep: boolean,
  attr: boolean,
): Value[] {
  const rest = attr ? args.slice(1) : args;
  const getter = attr ? attrGetter(rt, args[0] ?? null) : (v: Value) => v;
  const testName = rest[0];
  const check = (v: Value) =>
    testName === undefined ? truthy(v) : rt.applyTest(str(testName), v, rest.slice(1), kwargs);
  return iterate(value).filter((item) => check(getter(item)) === keep);
}

export function minMax(rt: Runtime, value: Value, args: Value[], kwargs: Kwargs, sign: 1 | -1): Value {
  const [caseSensitive, attribute] = params(args, kwargs, ['case_sensitive', 'attribute'], [false, null]);
  const items = iterate(value);
  if (items.length === 0) return new Undefined('No aggregated item, sequence was empty.');
  const key = attrGetter(rt, attribute, truthy(caseSensitive) ? undefined : ignoreCase);
  let best: Value = items[0] as Value;
  let bestKey = key(best);
  for (const item of items.slice(1)) {
    const k = key(item);
    if (pyCompare(k, bestKey) * sign > 0) {
      best = item;
      bestKey = k;
    }
  }
  return best;
}

export function unique(rt: Runtime, value: Value, args: Value[], kwargs: Kwargs): Value[] {
  const [caseSensitive, attribute] = params(args, kwargs, ['case_sensitive', 'attribute'], [false, null]);
  const key = attrGetter(rt, attribute, truthy(caseSensitive) ? undefined : ignoreCase);
  const seen: Value[] = [];
  const out: Value[] = [];
  for (const item of iterate(value)) {
    const k = key(item);
    if (Array.isArray(k) || isDict(k))
      throw typeError(`unhashable type: '${Array.isArray(k) ? 'list' : 'dict'}'`);
    rt.charge(seen.length);
    if (!seen.some((s) => pyEq(s, k))) {
      seen.push(k);
      out.push(item);
    }
  }
  return out;
}

export function groupby(rt: Runtime, value: Value, args: Value[], kwargs: Kwargs): Value[] {
  const [attribute, dflt, caseSensitive] = params(
    args,
    kwargs,
    ['attribute', 'default', 'case_sensitive'],
    [null, null, false],
  );
  const key = attrGetter(rt, attribute, truthy(caseSensitive) ? undefined : ignoreCase, dflt);
  const shown = attrGetter(rt, attribute, undefined, dflt);
  const sorted = sortBy(rt, iterate(value), key);
  const groups: Value[][] = [];
  let lastKey: Value | undefined;
  for (const item of sorted) {
    const k = key(item);
    if (groups.length === 0 || !pyEq(k, lastKey!)) groups.push([]);
    groups.at(-1)!.push(item);
    lastKey = k;
  }
  return groups.map((g) => new GroupTuple(shown(g[0]!), g));
}

/** groupby's result: a (grouper, list) tuple that also has those two attributes. */
export class GroupTuple extends PyTuple {
  constructor(grouper: Value, list: Value[]) {
    super([grouper, list]);
  }
}

export function dictsort(rt: Runtime, value: Value, args: Value[], kwargs: Kwargs): Value[] {
  const [caseSensitive, by, reverse] = params(
    args,
    kwargs,
    ['case_sensitive', 'by', 'reverse'],
    [false, 'key', false],
  );
  if (!isDict(value)) throw new TemplateError('type', 'dictsort expects a mapping');
  const pos = by === 'key' ? 0 : by === 'value' ? 1 : -1;
  if (pos < 0) throw new TemplateError('type', 'You can only sort by either "key" or "value"');
  const items = Object.keys(value).map((k) => new PyTuple([k, value[k]!]));
  return sortBy(
    rt,
    items,
    (t) => {
      const v = (t as PyTuple).items[pos]!;
      return truthy(caseSensitive) ? v : ignoreCase(v);
    },
    truthy(reverse),
  );
}

export function batch(value: Value, size: number, fill: Value): Value[] {
  const out: Value[][] = [];
  let tmp: Value[] = [];
  for (const item of iterate(value)) {
    if (tmp.length === size) {
      out.push(tmp);
      tmp = [];
    }
    tmp.push(item);
  }
  if (tmp.length) {
    if (fill !== null && tmp.length < size) tmp.push(...new Array(size - tmp.length).fill(fill));
    out.push(tmp);
  }
  return out;
}

export function slice(value: Value, slices: number, fill: Value): Value[] {
  const seq = iterate(value);
  const per = Math.floor(seq.length / slices);
  const extra = seq.length % slices;
  let offset = 0;
  const out: Value[][] = [];
  for (let n = 0; n < slices; n++) {
    const start = offset + n * per;
    if (n < extra) offset++;
    const tmp = seq.slice(start, offset + (n + 1) * per);
    if (fill !== null && n >= extra) tmp.push(fill);
    out.push(tmp);
  }
  return out;
}

export function sum(rt: Runtime, value: Value, args: Value[], kwargs: Kwargs): Value {
  const [attribute, start] = params(args, kwargs, ['attribute', 'start'], [null, 0]);
  const get = attrGetter(rt, attribute);
  let total = start;
  for (const item of iterate(value)) {
    total = rt.binop('+', total, get(item));
  }
  return total;
}

export function mapFilter(rt: Runtime, value: Value, args: Value[], kwargs: Kwargs): Value[] {
  const items = iterate(value);
  if (args.length === 0 && Object.hasOwn(kwargs, 'attribute')) {
    const get = attrGetter(rt, kwargs.attribute!, undefined, kwargs.default ?? null);
    return items.map(get);
  }
  const name = args[0];
  if (name === undefined) throw new TemplateError('type', 'map requires a filter argument');
  return items.map((v) => rt.applyFilter(str(name), v, args.slice(1), kwargs));
}

export function xmlattr(rt: Runtime, value: Value, autospace: boolean): Markup {
  if (!isDict(value)) throw typeError('xmlattr expects a mapping');
  const items: string[] = [];
  for (const key of Object.keys(value)) {
    const v = value[key]!;
    if (v === null || v instanceof Undefined) continue;
    if (/[\s/>=]/.test(key))
      throw new TemplateError('type', `Invalid character in attribute name: ${pyRepr(key)}`);
    items.push(`${escapeHtml(key).text}="${escapeHtml(v).text}"`);
  }
  rt.charge(items.length);
  const rv = items.join(' ');
  return new Markup(autospace && rv ? ` ${rv}` : rv);
}

export function reverse(value: Value): Value {
  if (isString(value)) return chars(text(value)).reverse().join('');
  return [...iterate(value)].reverse();
}

export function first(value: Value): Value {
  const items = iterate(value);
  return items.length ? items[0]! : new Undefined('No first item, sequence was empty.');
}

export function last(value: Value): Value {
  const items = iterate(value);
  return items.length ? items.at(-1)! : new Undefined('No last item, sequence was empty.');
}
