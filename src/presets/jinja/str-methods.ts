import { strFormat } from './format.js';
import { splitLines, splitLinesKeepEnds } from './line-breaks.js';
import { chars, iterate } from './operators.js';
import type { Method, Runtime } from './runtime.js';
import { TemplateError, typeError } from './template-error.js';
import { type Dict, isDict, isString, num, PyTuple, text, typeName, type Value } from './values.js';

function strArg(v: Value | undefined, what: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isString(v)) throw typeError(`${what} arg must be None or str`);
  return text(v);
}

export function intArg(v: Value | undefined, fallback: number): number {
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' && typeof v !== 'boolean') throw typeError('an integer is required');
  return num(v);
}

function stripChars(s: string, set: string | undefined, left: boolean, right: boolean): string {
  if (set === undefined) {
    let r = s;
    if (left) r = r.replace(/^\s+/, '');
    if (right) r = r.replace(/\s+$/, '');
    return r;
  }
  const cs = chars(s);
  let a = 0;
  let b = cs.length;
  while (left && a < b && set.includes(cs[a]!)) a++;
  while (right && b > a && set.includes(cs[b - 1]!)) b--;
  return cs.slice(a, b).join('');
}

/** Python's str.split: no separator splits on runs of whitespace and drops empty ends. */
export function pySplit(s: string, sep: string | undefined, maxsplit: number): string[] {
  if (sep === '') throw new TemplateError('type', 'empty separator');
  if (sep !== undefined) {
    const parts = s.split(sep);
    if (maxsplit < 0 || parts.length <= maxsplit + 1) return parts;
    return [...parts.slice(0, maxsplit), parts.slice(maxsplit).join(sep)];
  }
  const out: string[] = [];
  let rest = s.replace(/^\s+/, '');
  while (rest) {
    if (maxsplit >= 0 && out.length === maxsplit) {
      out.push(rest);
      break;
    }
    const m = /\s+/.exec(rest);
    if (!m) {
      out.push(rest);
      break;
    }
    out.push(rest.slice(0, m.index));
    rest = rest.slice(m.index + m[0].length);
  }
  return out;
}

function rsplit(s: string, sep: string | undefined, maxsplit: number): string[] {
  if (maxsplit < 0) return pySplit(s, sep, -1);
  const rev = (x: string) => chars(x).reverse().join('');
  return pySplit(rev(s), sep === undefined ? undefined : rev(sep), maxsplit)
    .map(rev)
    .reverse();
}

function padTo(
  rt: Runtime,
  s: string,
  width: number,
  fill: string,
  where: 'left' | 'right' | 'center',
): string {
  rt.checkLength(width);
  const gap = width - chars(s).length;
  if (gap <= 0) return s;
  if (where === 'left') return fill.repeat(gap) + s;
  if (where === 'right') return s + fill.repeat(gap);
  // Python's str.center puts the odd space on the left when the width is odd and the text even.
  const left = Math.floor(gap / 2) + (gap & width & 1);
  return fill.repeat(left) + s + fill.repeat(gap - left);
}

export function pyCenter(rt: Runtime, s: string, width: number, fill = ' '): string {
  return padTo(rt, s, width, fill, 'center');
}

const pyCapitalize = (s: string) => {
  const cs = chars(s);
  return cs.length ? cs[0]!.toUpperCase() + cs.slice(1).join('').toLowerCase() : '';
};

/** Python's str.title: a letter after a non-letter is upper-cased, every other letter lower-cased. */
export function pyTitle(s: string): string {
  return s.replace(/\p{L}+/gu, (w) => w[0]!.toUpperCase() + w.slice(1).toLowerCase());
}

const isCased = (s: string) => s.toLowerCase() !== s.toUpperCase();

function findArgs(self: string, args: Value[]): [string, number, number] {
  const sub = strArg(args[0], 'find') ?? '';
  const start = intArg(args[1], 0);
  const end = intArg(args[2], self.length);
  return [sub, start < 0 ? Math.max(0, self.length + start) : start, end < 0 ? self.length + end : end];
}

export const STR_METHODS: Record<string, Method<string>> = {
  upper: (_rt, s) => s.toUpperCase(),
  lower: (_rt, s) => s.toLowerCase(),
  casefold: (_rt, s) => s.toLowerCase(),
  capitalize: (_rt, s) => pyCapitalize(s),
  title: (_rt, s) => pyTitle(s),
  swapcase: (_rt, s) =>
    chars(s)
      .map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()))
      .join(''),
  strip: (_rt, s, a) => stripChars(s, strArg(a[0], 'strip'), true, true),
  lstrip: (_rt, s, a) => stripChars(s, strArg(a[0], 'lstrip'), true, false),
  rstrip: (_rt, s, a) => stripChars(s, strArg(a[0], 'rstrip'), false, true),
  split: (_rt, s, a, k) => pySplit(s, strArg(a[0] ?? k.sep, 'split'), intArg(a[1] ?? k.maxsplit, -1)),
  rsplit: (_rt, s, a, k) => rsplit(s, strArg(a[0] ?? k.sep, 'rsplit'), intArg(a[1] ?? k.maxsplit, -1)),
  splitlines: (_rt, s, a) => {
    return a[0] === true ? splitLinesKeepEnds(s) : splitLines(s);
  },
  replace: (rt, s, a) => {
    const old = strArg(a[0], 'replace') ?? '';
    const nu = strArg(a[1], 'replace') ?? '';
    return pyReplace(rt, s, old, nu, intArg(a[2], -1));
  },
  startswith: (_rt, s, a) => affix(a[0], (x) => s.startsWith(x)),
  endswith: (_rt, s, a) => affix(a[0], (x) => s.endsWith(x)),
  find: (_rt, s, a) => {
    const [sub, start, end] = findArgs(s, a);
    const i = s.indexOf(sub, start);
    return i === -1 || i + sub.length > end ? -1 : i;
  },
  rfind: (_rt, s, a) => {
    const [sub, start, end] = findArgs(s, a);
    const i = s.lastIndexOf(sub, end - sub.length);
    return i < start ? -1 : i;
  },
  index: (rt, s, a, k) => {
    const i = STR_METHODS.find!(rt, s, a, k) as number;
    if (i < 0) throw new TemplateError('type', 'substring not found');
    return i;
  },
  rindex: (rt, s, a, k) => {
    const i = STR_METHODS.rfind!(rt, s, a, k) as number;
    if (i < 0) throw new TemplateError('type', 'substring not found');
    return i;
  },
  count: (_rt, s, a) => {
    const [sub, start, end] = findArgs(s, a);
    const part = s.slice(start, end);
    return sub === '' ? chars(part).length + 1 : part.split(sub).length - 1;
  },
  join: (rt, s, a) => {
    const items = iterate(a[0] ?? null);
    const parts = items.map((x) => {
      if (!isString(x)) throw typeError(`sequence item: expected str instance, ${typeName(x)} found`);
      return text(x);
    });
    const total = parts.reduce((n, p) => n + p.length, 0) + s.length * Math.max(0, parts.length - 1);
    rt.checkLength(total);
    rt.charge(total / 16);
    return parts.join(s);
  },
  format: (rt, s, a, k) => strFormat(rt, s, a, k),
  format_map: (rt, s, a) => strFormat(rt, s, [], isDict(a[0] ?? null) ? (a[0] as Dict) : {}),
  center: (rt, s, a) => pyCenter(rt, s, intArg(a[0], 0), strArg(a[1], 'center') ?? ' '),
  ljust: (rt, s, a) => padTo(rt, s, intArg(a[0], 0), strArg(a[1], 'ljust') ?? ' ', 'right'),
  rjust: (rt, s, a) => padTo(rt, s, intArg(a[0], 0), strArg(a[1], 'rjust') ?? ' ', 'left'),
  zfill: (rt, s, a) => {
    const width = intArg(a[0], 0);
    const sign = /^[-+]/.test(s) ? s[0]! : '';
    return sign + padTo(rt, s.slice(sign.length), width - sign.length, '0', 'left');
  },
  expandtabs: (_rt, s, a) => expandTabs(s, intArg(a[0], 8)),
  removeprefix: (_rt, s, a) => {
    const p = strArg(a[0], 'removeprefix') ?? '';
    return p && s.startsWith(p) ? s.slice(p.length) : s;
  },
  removesuffix: (_rt, s, a) => {
    const p = strArg(a[0], 'removesuffix') ?? '';
    return p && s.endsWith(p) ? s.slice(0, -p.length) : s;
  },
  partition: (_rt, s, a) => partition(s, strArg(a[0], 'partition') ?? '', false),
  rpartition: (_rt, s, a) => partition(s, strArg(a[0], 'rpartition') ?? '', true),
  isdigit: (_rt, s) => /^\p{Nd}+$/u.test(s),
  isdecimal: (_rt, s) => /^\p{Nd}+$/u.test(s),
  isnumeric: (_rt, s) => /^\p{N}+$/u.test(s),
  isalpha: (_rt, s) => /^\p{L}+$/u.test(s),
  isalnum: (_rt, s) => /^[\p{L}\p{N}]+$/u.test(s),
  isspace: (_rt, s) => /^\s+$/.test(s),
  islower: (_rt, s) => isCased(s) && s === s.toLowerCase(),
  isupper: (_rt, s) => isCased(s) && s === s.toUpperCase(),
  istitle: (_rt, s) => isCased(s) && pyTitle(s) === s,
};

function affix(arg: Value | undefined, test: (x: string) => boolean): boolean {
  if (arg instanceof PyTuple) return arg.items.some((x) => isString(x) && test(text(x)));
  const x = strArg(arg, 'startswith');
  if (x === undefined) throw typeError('startswith first arg must be str or a tuple of str');
  return test(x);
}

function partition(s: string, sep: string, fromRight: boolean): PyTuple {
  if (!sep) throw new TemplateError('type', 'empty separator');
  const i = fromRight ? s.lastIndexOf(sep) : s.indexOf(sep);
  if (i === -1) return new PyTuple(fromRight ? ['', '', s] : [s, '', '']);
  return new PyTuple([s.slice(0, i), sep, s.slice(i + sep.length)]);
}

function expandTabs(s: string, size: number): string {
  let col = 0;
  let out = '';
  for (const c of s) {
    if (c === '\t') {
      const n = size > 0 ? size - (col % size) : 0;
      out += ' '.repeat(n);
      col += n;
    } else {
      out += c;
      col = c === '\n' || c === '\r' ? 0 : col + 1;
    }
  }
  return out;
}

/** Python's str.replace; an empty `old` inserts `nu` between every character, as Python does. */
export function pyReplace(rt: Runtime, s: string, old: string, nu: string, count: number): string {
  if (old === '') {
    const cs = chars(s);
    const slots = count < 0 ? cs.length + 1 : Math.min(count, cs.length + 1);
    rt.checkLength(s.length + slots * nu.length);
    let out = '';
    for (let i = 0; i < cs.length; i++) out += (i < slots ? nu : '') + cs[i];
    return out + (slots > cs.length ? nu : '');
  }
  const parts = s.split(old);
  const n = count < 0 ? parts.length - 1 : Math.min(count, parts.length - 1);
  rt.checkLength(s.length + n * Math.max(0, nu.length - old.length));
  return parts.slice(0, n + 1).join(nu) + (n < parts.length - 1 ? old + parts.slice(n + 1).join(old) : '');
}
