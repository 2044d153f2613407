/** Jinja2's number filters: int, float, round and filesizeformat, with Python's parsing and rounding. */
import { toFixedPy } from './format.js';
import { failUndefined } from './operators.js';
import { TemplateError, typeError } from './template-error.js';
import { isInt, isNumber, isString, mkFloat, num, text, Undefined, type Value } from './values.js';

export function toFloat(v: Value): number | undefined {
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

export function doInt(v: Value, dflt: Value, base: number): Value {
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

export function doRound(value: Value, precision: Value, method: Value): Value {
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

export function filesizeformat(value: Value, binary: boolean): string {
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
