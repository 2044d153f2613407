import { charge, checkLength } from './budget.js';
import {
  DictView,
  isDict,
  isInt,
  Markup,
  PyCallable,
  PyFloat,
  PyObject,
  PyRange,
  PyTuple,
  Undefined,
  type Value,
} from './values.js';

/**
 * Python's float repr: the shortest digits that read back as the same double (JavaScript finds those
 * too), laid out as Python does: exponent form below 1e-4 and from 1e16, `.0` on whole numbers.
 */
export function floatRepr(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (!Number.isFinite(n)) return n > 0 ? 'inf' : '-inf';
  if (n === 0) return Object.is(n, -0) ? '-0.0' : '0.0';
  const [mantissa, expText] = Math.abs(n).toExponential().split('e') as [string, string];
  const exp = Number(expText);
  const digits = mantissa.replace('.', '');
  const sign = n < 0 ? '-' : '';
  if (exp < -4 || exp >= 16) {
    const frac = digits.length > 1 ? `.${digits.slice(1)}` : '';
    const e = Math.abs(exp) < 10 ? `0${Math.abs(exp)}` : `${Math.abs(exp)}`;
    return `${sign}${digits[0]}${frac}e${exp < 0 ? '-' : '+'}${e}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const whole = digits.length > exp + 1 ? digits.slice(0, exp + 1) : digits.padEnd(exp + 1, '0');
  const frac = digits.length > exp + 1 ? digits.slice(exp + 1) : '0';
  return `${sign}${whole}.${frac}`;
}

/** Python's repr of a str: single quotes unless the text has one and no double quote. */
export function strRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || (c >= 0x7f && c <= 0xa0) || c === 0xad)
      out += `\\x${c.toString(16).padStart(2, '0')}`;
    else if ((c >= 0x2028 && c <= 0x2029) || (c >= 0xd800 && c <= 0xdfff)) out += `\\u${c.toString(16)}`;
    else out += ch;
  }
  return out + quote;
}

/** Python's repr(): how values show inside a printed list, dict or tuple. */
export function pyRepr(v: Value): string {
  if (typeof v === 'string') return strRepr(v);
  if (v instanceof Markup) return `Markup(${strRepr(v.text)})`;
  if (Array.isArray(v) || v instanceof PyTuple || isDict(v)) {
    const parts: string[] = [];
    writeRepr(v, parts, { length: 0 });
    return parts.join('');
  }
  return scalarStr(v);
}

/**
 * Writes a container's repr piece by piece, charging the budget and checking the length as it goes:
 * a list holding the same long string a hundred thousand times must fail before it is built.
 */
function writeRepr(v: Value, parts: string[], size: { length: number }): void {
  const put = (s: string) => {
    size.length += s.length;
    checkLength(size.length);
    parts.push(s);
  };
  charge(16);
  if (v instanceof PyRange) {
    put(`range(${v.start}, ${v.stop}${v.step === 1 ? '' : `, ${v.step}`})`);
  } else if (v instanceof DictView) {
    put(`${v.kind}(`);
    writeRepr(v.items, parts, size);
    put(')');
  } else if (Array.isArray(v) || v instanceof PyTuple) {
    const items = Array.isArray(v) ? v : v.items;
    put(Array.isArray(v) ? '[' : '(');
    items.forEach((item, i) => {
      if (i > 0) put(', ');
      writeRepr(item, parts, size);
    });
    put(Array.isArray(v) ? ']' : items.length === 1 ? ',)' : ')');
  } else if (isDict(v)) {
    put('{');
    Object.keys(v).forEach((k, i) => {
      put(`${i > 0 ? ', ' : ''}${strRepr(k)}: `);
      writeRepr(v[k]!, parts, size);
    });
    put('}');
  } else {
    const s = pyRepr(v);
    charge(s.length);
    put(s);
  }
}

/** str() of anything that is not text or a container; host objects never show their insides. */
function scalarStr(v: Value): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return isInt(v) ? intStr(v) : floatRepr(v);
  if (v instanceof PyFloat) return floatRepr(v.value);
  if (v instanceof Undefined) return 'Undefined';
  if (v instanceof PyCallable) return v.shown;
  if (v instanceof PyObject) return v.shown();
  return '<object>';
}

/** Python's str(): what `{{ value }}` prints. */
export function pyStr(v: Value): string {
  if (typeof v === 'string') return v;
  if (v instanceof Markup) return v.text;
  if (v instanceof Undefined) return '';
  if (Array.isArray(v) || v instanceof PyTuple || isDict(v)) return pyRepr(v);
  return scalarStr(v);
}

/** A whole number as Python prints an int: all digits, never JavaScript's `1e+21`. */
export const intStr = (n: number): string => (Math.abs(n) >= 1e21 ? BigInt(n).toString() : String(n));
