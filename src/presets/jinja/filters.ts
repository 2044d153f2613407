import { escapeHtml } from './escape.js';
import { attrGetter, ignoreCase, multiAttrGetter, params, sortBy, str } from './filter-args.js';
import { percentFormat } from './format.js';
import { doInt, doRound, filesizeformat, toFloat } from './number-filters.js';
import { chars, failUndefined, iterate, length } from './operators.js';
import { pformat } from './pprint.js';
import type { FilterFn, Runtime } from './runtime.js';
import {
  batch,
  dictsort,
  first,
  groupby,
  last,
  mapFilter,
  minMax,
  reverse,
  selectOrReject,
  slice,
  sum,
  unique,
  xmlattr,
} from './sequence-filters.js';
import { pyCenter, pyReplace } from './str-methods.js';
import { TemplateError, typeError } from './template-error.js';
import { capitalize, indent, striptags, title, truncate } from './text-filters.js';
import { tojson } from './tojson.js';
import { urlize, urlQuote } from './urls.js';
import {
  type Dict,
  isDict,
  isInt,
  isNumber,
  isString,
  Markup,
  mkFloat,
  newDict,
  num,
  PyFloat,
  PyTuple,
  truthy,
  Undefined,
  type Value,
} from './values.js';
import { wordwrap } from './wordwrap.js';

const strFilter =
  (fn: (s: string) => string): FilterFn =>
  (_rt, v) =>
    fn(str(v));

/** Every built-in filter of Jinja2 3.x (jinja2/filters.py), with its Python signature and defaults. */
export const FILTERS: Record<string, FilterFn> = {
  abs: (_rt, v) => {
    if (v instanceof Undefined) throw typeError("bad operand type for abs(): 'Undefined'");
    if (!isNumber(v)) throw typeError('bad operand type for abs()');
    const n = Math.abs(num(v));
    return isInt(v) ? n : mkFloat(n);
  },
  attr: (rt, v, a) => {
    const name = str(a[0] ?? null);
    if (isDict(v)) return name.startsWith('_') ? new Undefined(name, true) : methodOnly(rt, v, name);
    return rt.getattr(v, name);
  },
  batch: (_rt, v, a, k) => {
    const [size, fill] = params(a, k, ['linecount', 'fill_with'], [null, null]);
    return batch(v, num(size as number), fill);
  },
  capitalize: strFilter(capitalize),
  center: (rt, v, a, k) => pyCenter(rt, str(v), num(params(a, k, ['width'], [80])[0] as number)),
  default: (_rt, v, a, k) => {
    const [dflt, boolean] = params(a, k, ['default_value', 'boolean'], ['', false]);
    return v instanceof Undefined || (truthy(boolean) && !truthy(v)) ? dflt : v;
  },
  dictsort,
  escape: (_rt, v) => escapeHtml(v),
  filesizeformat: (_rt, v, a, k) => filesizeformat(v, truthy(params(a, k, ['binary'], [false])[0]!)),
  first: (_rt, v) => first(v),
  float: (_rt, v, a, k) => {
    const [dflt] = params(a, k, ['default'], [new PyFloat(0)]);
    if (v instanceof Undefined) failUndefined(v);
    const f = toFloat(v);
    return f === undefined ? dflt : mkFloat(f);
  },
  forceescape: (_rt, v) => escapeHtml(str(v)),
  format: (rt, v, a, k) => {
    if (a.length && Object.keys(k).length) {
      throw new TemplateError('type', "can't handle positional and keyword arguments at the same time");
    }
    return percentFormat(rt, str(v), Object.keys(k).length ? newDict(Object.entries(k)) : new PyTuple(a));
  },
  groupby,
  indent: (_rt, v, a, k) => {
    if (v instanceof Undefined) failUndefined(v);
    const [width, firstLine, blank] = params(a, k, ['width', 'first', 'blank'], [4, false, false]);
    return indent(str(v), width, truthy(firstLine), truthy(blank));
  },
  int: (_rt, v, a, k) => {
    const [dflt, base] = params(a, k, ['default', 'base'], [0, 10]);
    return doInt(v, dflt, num(base as number));
  },
  items: (_rt, v) => {
    if (v instanceof Undefined) return [];
    if (!isDict(v)) throw new TemplateError('type', 'Can only get item pairs from a mapping.');
    return Object.keys(v).map((key) => new PyTuple([key, v[key]!]));
  },
  join: (rt, v, a, k) => {
    const [sep, attribute] = params(a, k, ['d', 'attribute'], ['', null]);
    const items = attribute === null ? iterate(v) : iterate(v).map(attrGetter(rt, attribute));
    const parts = items.map(str);
    const total = parts.reduce((n, p) => n + p.length, 0);
    rt.checkLength(total);
    rt.charge(total / 16);
    return parts.join(str(sep));
  },
  last: (_rt, v) => last(v),
  length: (_rt, v) => length(v),
  list: (_rt, v) => [...iterate(v)],
  lower: strFilter((s) => s.toLowerCase()),
  map: mapFilter,
  max: (rt, v, a, k) => minMax(rt, v, a, k, 1),
  min: (rt, v, a, k) => minMax(rt, v, a, k, -1),
  pprint: (_rt, v) => pformat(v),
  random: (_rt, v) => {
    const items = iterate(v);
    if (!items.length) return new Undefined('No random item, sequence was empty.');
    return items[Math.floor(Math.random() * items.length)]!;
  },
  reject: (rt, v, a, k) => selectOrReject(rt, v, a, k, false, false),
  rejectattr: (rt, v, a, k) => selectOrReject(rt, v, a, k, false, true),
  replace: (rt, v, a, k) => {
    const [old, nu, count] = params(a, k, ['old', 'new', 'count'], ['', '', null]);
    return pyReplace(rt, str(v), str(old), str(nu), count === null ? -1 : num(count as number));
  },
  reverse: (_rt, v) => reverse(v),
  round: (_rt, v, a, k) => {
    const [precision, method] = params(a, k, ['precision', 'method'], [0, 'common']);
    return doRound(v, precision, method);
  },
  safe: (_rt, v) => (v instanceof Markup ? v : new Markup(str(v))),
  select: (rt, v, a, k) => selectOrReject(rt, v, a, k, true, false),
  selectattr: (rt, v, a, k) => selectOrReject(rt, v, a, k, true, true),
  slice: (_rt, v, a, k) => {
    const [slices, fill] = params(a, k, ['slices', 'fill_with'], [null, null]);
    return slice(v, num(slices as number), fill);
  },
  sort: (rt, v, a, k) => {
    const [rev, caseSensitive, attribute] = params(
      a,
      k,
      ['reverse', 'case_sensitive', 'attribute'],
      [false, false, null],
    );
    const key = multiAttrGetter(rt, attribute, truthy(caseSensitive) ? undefined : ignoreCase);
    return sortBy(rt, iterate(v), key, truthy(rev));
  },
  string: (_rt, v) => (v instanceof Markup ? v : str(v)),
  striptags: strFilter(striptags),
  sum,
  title: strFilter(title),
  tojson: (_rt, v, a, k) => new Markup(tojson(v, params(a, k, ['indent'], [null])[0]!)),
  trim: (_rt, v, a, k) => {
    const [set] = params(a, k, ['chars'], [null]);
    const s = str(v);
    if (set === null) return s.replace(/^\s+|\s+$/g, '');
    const cs = chars(s);
    const drop = str(set);
    let i = 0;
    let j = cs.length;
    while (i < j && drop.includes(cs[i]!)) i++;
    while (j > i && drop.includes(cs[j - 1]!)) j--;
    return cs.slice(i, j).join('');
  },
  truncate: (_rt, v, a, k) => {
    const [len, killwords, end, leeway] = params(
      a,
      k,
      ['length', 'killwords', 'end', 'leeway'],
      [255, false, '...', null],
    );
    return truncate(
      str(v),
      num(len as number),
      truthy(killwords),
      str(end),
      leeway === null ? 5 : num(leeway as number),
    );
  },
  unique,
  upper: strFilter((s) => s.toUpperCase()),
  urlencode: (_rt, v) => {
    if (isString(v) || !(Array.isArray(v) || v instanceof PyTuple || isDict(v)))
      return urlQuote(str(v), false);
    const pairs = isDict(v) ? Object.keys(v).map((key) => [key, v[key]!] as const) : iterate(v).map(pairOf);
    return pairs.map(([key, val]) => `${urlQuote(str(key), true)}=${urlQuote(str(val), true)}`).join('&');
  },
  urlize: (_rt, v, a, k) => {
    const [limit, nofollow, target, rel] = params(
      a,
      k,
      ['trim_url_limit', 'nofollow', 'target', 'rel'],
      [null, false, null, null],
    );
    const relParts = new Set(rel === null ? [] : str(rel).split(/\s+/).filter(Boolean));
    if (truthy(nofollow)) relParts.add('nofollow');
    relParts.add('noopener');
    return urlize(
      str(v),
      limit === null ? undefined : num(limit as number),
      [...relParts].sort().join(' '),
      target === null ? undefined : str(target),
    );
  },
  wordcount: (_rt, v) => (str(v).match(/[\p{L}\p{N}_]+/gu) ?? []).length,
  wordwrap: (_rt, v, a, k) => {
    if (v instanceof Undefined) failUndefined(v);
    const [width, breakLong, wrapstring, breakHyphens] = params(
      a,
      k,
      ['width', 'break_long_words', 'wrapstring', 'break_on_hyphens'],
      [79, true, null, true],
    );
    return wordwrap(
      str(v),
      num(width as number),
      truthy(breakLong),
      wrapstring === null ? '\n' : str(wrapstring),
      truthy(breakHyphens),
    );
  },
  xmlattr: (rt, v, a, k) => xmlattr(rt, v, truthy(params(a, k, ['autospace'], [true])[0]!)),
};
FILTERS.d = FILTERS.default!;
FILTERS.e = FILTERS.escape!;
FILTERS.count = FILTERS.length!;

function pairOf(item: Value): readonly [Value, Value] {
  const items = iterate(item);
  if (items.length !== 2) throw new TemplateError('type', 'urlencode expects pairs');
  return [items[0]!, items[1]!];
}

/** `attr` on a dict reads attributes only (Python's getattr): its methods, never its keys. */
function methodOnly(rt: Runtime, d: Dict, name: string): Value {
  const v = rt.getattr(d, name);
  return isDict(d) && Object.hasOwn(d, name) && v === d[name] ? new Undefined(name) : v;
}
