import {
  isDict,
  isInt,
  Markup,
  PyCallable,
  PyFloat,
  PyObject,
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
  if (v instanceof Undefined) return 'Undefined';
  if (typeof v === 'string') return strRepr(v);
  if (v instanceof Markup) return `Markup(${strRepr(v.text)})`;
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  if (v instanceof PyTuple) {
    if (v.items.length === 1) return `(${pyRepr(v.items[0]!)},)`;
    return `(${v.items.map(pyRepr).join(', ')})`;
  }
  if (isDict(v)) {
    return `{${Object.keys(v)
      .map((k) => `${strRepr(k)}: ${pyRepr(v[k]!)}`)
      .join(', ')}}`;
  }
  return pyStr(v);
}

/** Python's str(): what `{{ value }}` prints. */
export function pyStr(v: Value): string {
  if (typeof v === 'string') return v;
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return isInt(v) ? intStr(v) : floatRepr(v);
  if (v instanceof PyFloat) return floatRepr(v.value);
  if (v instanceof Markup) return v.text;
  if (v instanceof Undefined) return '';
  if (v instanceof PyCallable) return v.shown;
  if (v instanceof PyObject) return v.shown();
  return pyRepr(v);
}

/** A whole number as Python prints an int: all digits, never JavaScript's `1e+21`. */
export const intStr = (n: number): string => (Math.abs(n) >= 1e21 ? BigInt(n).toString() : String(n));
