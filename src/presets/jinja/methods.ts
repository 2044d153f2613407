import { iterate, pyCompare, pyEq } from './operators.js';
import { pyStr } from './python-str.js';
import type { Method, Runtime } from './runtime.js';
import { intArg, STR_METHODS } from './str-methods.js';
import { TemplateError, typeError } from './template-error.js';
import {
  type Dict,
  DictView,
  dictSet,
  isDict,
  isString,
  Markup,
  PyCallable,
  PyTuple,
  sizeOf,
  text,
  typeName,
  Undefined,
  type Value,
} from './values.js';

/**
 * The methods of str, list and dict that Jinja2's SandboxedEnvironment lets a template call. A name not
 * listed here is an undefined attribute, as a missing attribute is in Jinja2.
 */
const LIST_METHODS: Record<string, Method<Value[]>> = {
  index: (_rt, l, a) => {
    const i = l.findIndex((x) => pyEq(x, a[0] ?? null));
    if (i < 0) throw new TemplateError('type', `${pyStr(a[0] ?? null)} is not in list`);
    return i;
  },
  count: (_rt, l, a) => l.filter((x) => pyEq(x, a[0] ?? null)).length,
  copy: (_rt, l) => [...l],
  append: (rt, l, a) => {
    rt.checkItems(l.length + 1);
    l.push(a[0] ?? null);
    return null;
  },
  extend: (rt, l, a) => {
    const items = iterate(a[0] ?? null);
    rt.checkItems(l.length + items.length);
    rt.charge(items.length);
    l.push(...items);
    return null;
  },
  insert: (rt, l, a) => {
    rt.checkItems(l.length + 1);
    const i = intArg(a[0], 0);
    l.splice(i < 0 ? Math.max(0, l.length + i) : i, 0, a[1] ?? null);
    return null;
  },
  pop: (_rt, l, a) => {
    if (l.length === 0) throw new TemplateError('type', 'pop from empty list');
    const i = intArg(a[0], -1);
    const at = i < 0 ? l.length + i : i;
    if (at < 0 || at >= l.length) throw new TemplateError('type', 'pop index out of range');
    return l.splice(at, 1)[0]!;
  },
  remove: (_rt, l, a) => {
    const i = l.findIndex((x) => pyEq(x, a[0] ?? null));
    if (i < 0) throw new TemplateError('type', 'list.remove(x): x not in list');
    l.splice(i, 1);
    return null;
  },
  reverse: (_rt, l) => {
    l.reverse();
    return null;
  },
  sort: (rt, l, _a, k) => {
    rt.charge(l.length * Math.ceil(Math.log2(l.length + 1)));
    l.sort((x, y) => pyCompare(x, y));
    if (k.reverse === true) l.reverse();
    return null;
  },
  clear: (_rt, l) => {
    l.length = 0;
    return null;
  },
};

const TUPLE_METHODS: Record<string, Method<PyTuple>> = {
  index: (rt, t, a, k) => LIST_METHODS.index!(rt, t.items, a, k),
  count: (rt, t, a, k) => LIST_METHODS.count!(rt, t.items, a, k),
};

const keyOf = (v: Value | undefined): string => {
  if (v === undefined) throw typeError('a key is required');
  if (isString(v)) return text(v);
  if (typeof v === 'number') return String(v);
  throw typeError(`unhashable or unsupported key type: '${typeName(v)}'`);
};

const DICT_METHODS: Record<string, Method<Dict>> = {
  keys: (_rt, d) => new DictView('dict_keys', Object.keys(d)),
  values: (_rt, d) =>
    new DictView(
      'dict_values',
      Object.keys(d).map((k) => d[k]!),
    ),
  items: (_rt, d) =>
    new DictView(
      'dict_items',
      Object.keys(d).map((k) => new PyTuple([k, d[k]!])),
    ),
  get: (_rt, d, a) => {
    const k = keyOf(a[0]);
    return Object.hasOwn(d, k) ? d[k]! : (a[1] ?? null);
  },
  copy: (_rt, d) => Object.assign(Object.create(null), d) as Dict,
  pop: (_rt, d, a) => {
    const k = keyOf(a[0]);
    if (!Object.hasOwn(d, k)) {
      if (a.length > 1) return a[1]!;
      throw new TemplateError('type', `KeyError: '${k}'`);
    }
    const v = d[k]!;
    delete d[k];
    return v;
  },
  setdefault: (_rt, d, a) => {
    const k = keyOf(a[0]);
    if (!Object.hasOwn(d, k)) dictSet(d, k, a[1] ?? null);
    return d[k]!;
  },
  update: (_rt, d, a, kw) => {
    const src = a[0];
    if (isDict(src ?? null)) for (const k of Object.keys(src as Dict)) dictSet(d, k, (src as Dict)[k]!);
    for (const k of Object.keys(kw)) dictSet(d, k, kw[k]!);
    return null;
  },
  clear: (_rt, d) => {
    for (const k of Object.keys(d)) delete d[k];
    return null;
  },
};

/** A bound method of `self`, or undefined when Python's type has no such (safe) method. */
export function methodOf(rt: Runtime, self: Value, name: string): PyCallable | undefined {
  const bind = <T>(table: Record<string, Method<T>>, target: T, typeLabel: string) => {
    if (!Object.hasOwn(table, name)) return undefined;
    const fn = table[name]!;
    return new PyCallable(
      name,
      (args, kwargs) => {
        rt.charge(sizeOf(self));
        return fn(rt, target, args, kwargs);
      },
      `<built-in method ${name} of ${typeLabel} object>`,
    );
  };
  if (typeof self === 'string') return bind(STR_METHODS, self, 'str');
  if (self instanceof Markup) {
    const m = bind(STR_METHODS, self.text, 'Markup');
    return m;
  }
  if (Array.isArray(self)) return bind(LIST_METHODS, self, 'list');
  if (self instanceof PyTuple) return bind(TUPLE_METHODS, self, 'tuple');
  if (isDict(self)) return bind(DICT_METHODS, self, 'dict');
  if (self instanceof Undefined) return undefined;
  return undefined;
}
