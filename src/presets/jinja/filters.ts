import { escapeHtml, unescapeHtml } from './escape.js';
import { percentFormat, toFixedPy } from './format.js';
import { splitLines } from './line-breaks.js';
import { pyCenter, pyReplace, pySplit } from './methods.js';
import { chars, failUndefined, iterate, length, pyCompare, pyEq } from './operators.js';
import { pyRepr, pyStr } from './python-str.js';
import type { FilterFn, Runtime } from './runtime.js';
import { TemplateError, typeError } from './template-error.js';
import { tojson } from './tojson.js';
import { urlize, urlQuote } from './urls.js';
import {
  type Dict,
  isDict,
  isInt,
  isNumber,
  isString,
  type Kwargs,
  Markup,
  mkFloat,
  newDict,
  num,
  PyFloat,
  PyTuple,
  text,
  truthy,
  Undefined,
  type Value,
} from './values.js';
import { wordwrap } from './wordwrap.js';

/** Named and positional arguments of a filter, by Python signature order. */
function params<const N extends readonly string[]>(
  args: Value[],
  kwargs: Kwargs,
  names: N,
  defaults: { [K in keyof N]: Value },
): { [K in keyof N]: Value } {
  return names.map((n, i) =>
    i < args.length ? args[i]! : Object.hasOwn(kwargs, n) ? kwargs[n]! : (defaults[i] as Value),
  ) as { [K in keyof N]: Value };
}

const str = (v: Value): string => pyStr(v);
const ignoreCase = (v: Value): Value => (typeof v === 'string' ? v.toLowerCase() : v);

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
function multiAttrGetter(rt: Runtime, attribute: Value, post?: (v: Value) => Value): (item: Value) => Value {
  if (!isString(attribute) || !text(attribute).includes(',')) return attrGetter(rt, attribute, post);
  const getters = text(attribute)
    .split(',')
    .map((a) => attrGetter(rt, a, post));
  return (item) => new PyTuple(getters.map((g) => g(item)));
}

function sortBy(rt: Runtime, items: Value[], key: (v: Value) => Value, reverse = false): Value[] {
  rt.charge(items.length * Math.ceil(Math.log2(items.length + 1)));
  const keyed = items.map((v) => [key(v), v] as const);
  keyed.sort((a, b) => (reverse ? pyCompare(b[0], a[0]) : pyCompare(a[0], b[0])));
  return keyed.map((k) => k[1]);
}

function toFloat(v: Value): number | undefined {
  if (isNumber(v)) return num(v);
  if (!isString(v)) return undefined;
  const s = text(v)
    .trim()
    .replace(/(?<=\d)_(?=\d)/g, '');
  if (/^[-+]?(inf(inity)?|nan)$/i.test(s))
    return Number(s.replace(/inf(inity)?/i, 'Infinity').replace(/nan/i, 'NaN'));
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) return undefined;
  return Number(s);
}

/** Python's int(str, base), underscores and base prefixes included. */
function parseIntText(s: string, base: number): number | undefined {
  let t = s.trim().toLowerCase();
  let sign = 1;
  if (t[0] === '-' || t[0] === '+') {
    sign = t[0] === '-' ? -1 : 1;
    t = t.slice(1);
  }
  let b = base;
  const prefixes: Record<string, number> = { '0x': 16, '0o': 8, '0b': 2 };
  const p = prefixes[t.slice(0, 2)];
  if (p && (b === 0 || b === p)) {
    b = p;
    t = t.slice(2).replace(/^_/, '');
  } else if (b === 0) {
    if (/^0+(_?0)*$/.test(t)) return 0;
    if (t[0] === '0') return undefined;
    b = 10;
  }
  if (!t || !/^[0-9a-z]+(_[0-9a-z]+)*$/.test(t)) return undefined;
  t = t.replace(/_/g, '');
  const digits = '0123456789abcdefghijklmnopqrstuvwxyz'.slice(0, b);
  if ([...t].some((c) => !digits.includes(c))) return undefined;
  return sign * Number.parseInt(t, b);
}

function doInt(v: Value, dflt: Value, base: number): Value {
  if (v instanceof Undefined) failUndefined(v);
  if (isString(v)) {
    const n = parseIntText(text(v), base);
    if (n !== undefined) return n;
  } else if (isNumber(v) && Number.isFinite(num(v))) return Math.trunc(num(v)) + 0;
  const f = toFloat(v);
  return f !== undefined && Number.isFinite(f) ? Math.trunc(f) + 0 : dflt;
}

/** Python's round(x, n): correctly rounded from the double's exact value, ties to even. */
export function pyRound(x: number, n: number): number {
  if (!Number.isFinite(x)) return x;
  if (n < 0) {
    const f = 10 ** -n;
    return Number(toFixedPy(x / f, 0)) * f;
  }
  return n > 50 ? x : Number(toFixedPy(x, n));
}

function doRound(value: Value, precision: Value, method: Value): Value {
  if (value instanceof Undefined) failUndefined(value);
  if (!isNumber(value)) throw typeError(`type ${typeof value} doesn't define __round__ method`);
  const p = num(precision as number);
  const x = num(value);
  if (method === 'common') {
    if (isInt(value)) return p >= 0 ? x : pyRound(x, p);
    return mkFloat(pyRound(x, p));
  }
  if (method !== 'floor' && method !== 'ceil')
    throw new TemplateError('type', 'method must be common, ceil or floor');
  const f = 10 ** p;
  return mkFloat((method === 'floor' ? Math.floor(x * f) : Math.ceil(x * f)) / f);
}

function filesizeformat(value: Value, binary: boolean): string {
  if (value instanceof Undefined) failUndefined(value);
  const bytes = toFloat(value);
  if (bytes === undefined) throw typeError('could not convert to float');
  const base = binary ? 1024 : 1000;
  const prefixes = binary
    ? ['KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB']
    : ['kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
  if (bytes === 1) return '1 Byte';
  if (bytes < base) return `${Math.trunc(bytes)} Bytes`;
  let unit = 0;
  for (let i = 0; i < prefixes.length; i++) {
    unit = base ** (i + 2);
    if (bytes < unit) return `${((base * bytes) / unit).toFixed(1)} ${prefixes[i]}`;
  }
  return `${((base * bytes) / unit).toFixed(1)} ${prefixes.at(-1)}`;
}

function indent(s: string, width: Value, first: boolean, blank: boolean): string {
  const pad = isString(width) ? text(width) : ' '.repeat(num(width as number));
  const lines = splitLines(`${s}\n`);
  let rv: string;
  if (blank) rv = lines.join(`\n${pad}`);
  else {
    rv = lines.shift() ?? '';
    if (lines.length) rv += `\n${lines.map((l) => (l ? pad + l : l)).join('\n')}`;
  }
  return first ? pad + rv : rv;
}

function truncate(s: string, len: number, killwords: boolean, end: string, leeway: number): string {
  if (len < end.length) throw new TemplateError('type', `expected length >= ${end.length}, got ${len}`);
  const cs = chars(s);
  if (cs.length <= len + leeway) return s;
  const head = cs.slice(0, Math.max(0, len - end.length)).join('');
  if (killwords) return head + end;
  const cut = head.lastIndexOf(' ');
  return (cut === -1 ? head : head.slice(0, cut)) + end;
}

/** markupsafe's striptags: comments, then tags, removed; spaces collapsed; entities decoded. */
function striptags(s: string): string {
  let v = s;
  for (let start = v.indexOf('<!--'); start !== -1; start = v.indexOf('<!--')) {
    const end = v.indexOf('-->', start);
    if (end === -1) break;
    v = v.slice(0, start) + v.slice(end + 3);
  }
  for (let start = v.indexOf('<'); start !== -1; start = v.indexOf('<')) {
    const end = v.indexOf('>', start);
    if (end === -1) break;
    v = v.slice(0, start) + v.slice(end + 1);
  }
  return unescapeHtml(pySplit(v, undefined, -1).join(' '));
}

function title(s: string): string {
  return s
    .split(/([-\s({[<]+)/)
    .filter((x) => x)
    .map((x) => {
      const cs = chars(x);
      return cs[0]!.toUpperCase() + cs.slice(1).join('').toLowerCase();
    })
    .join('');
}

function capitalize(s: string): string {
  const cs = chars(s);
  return cs.length ? cs[0]!.toUpperCase() + cs.slice(1).join('').toLowerCase() : '';
}

function selectOrReject(
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

function minMax(rt: Runtime, value: Value, args: Value[], kwargs: Kwargs, sign: 1 | -1): Value {
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

function unique(rt: Runtime, value: Value, args: Value[], kwargs: Kwargs): Value[] {
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

function groupby(rt: Runtime, value: Value, args: Value[], kwargs: Kwargs): Value[] {
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

function dictsort(rt: Runtime, value: Value, args: Value[], kwargs: Kwargs): Value[] {
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

function batch(value: Value, size: number, fill: Value): Value[] {
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

function slice(value: Value, slices: number, fill: Value): Value[] {
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

function sum(rt: Runtime, value: Value, args: Value[], kwargs: Kwargs): Value {
  const [attribute, start] = params(args, kwargs, ['attribute', 'start'], [null, 0]);
  const get = attrGetter(rt, attribute);
  let total = start;
  for (const item of iterate(value)) {
    total = rt.binop('+', total, get(item));
  }
  return total;
}

function mapFilter(rt: Runtime, value: Value, args: Value[], kwargs: Kwargs): Value[] {
  const items = iterate(value);
  if (args.length === 0 && Object.hasOwn(kwargs, 'attribute')) {
    const get = attrGetter(rt, kwargs.attribute!, undefined, kwargs.default ?? null);
    return items.map(get);
  }
  const name = args[0];
  if (name === undefined) throw new TemplateError('type', 'map requires a filter argument');
  return items.map((v) => rt.applyFilter(str(name), v, args.slice(1), kwargs));
}

function xmlattr(rt: Runtime, value: Value, autospace: boolean): Markup {
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

function reverse(value: Value): Value {
  if (isString(value)) return chars(text(value)).reverse().join('');
  return [...iterate(value)].reverse();
}

function first(value: Value): Value {
  const items = iterate(value);
  return items.length ? items[0]! : new Undefined('No first item, sequence was empty.');
}

function last(value: Value): Value {
  const items = iterate(value);
  return items.length ? items.at(-1)! : new Undefined('No last item, sequence was empty.');
}

function pprint(v: Value): string {
  const sorted = (x: Value): Value => {
    if (isDict(x)) {
      const keys = Object.keys(x).sort();
      return newDict(keys.map((k) => [k, sorted(x[k]!)]));
    }
    if (Array.isArray(x)) return x.map(sorted);
    if (x instanceof PyTuple) return new PyTuple(x.items.map(sorted));
    return x;
  };
  return pyRepr(sorted(v));
}

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
  pprint: (_rt, v) => pprint(v),
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
