import { failUndefined } from './operators.js';
import { floatRepr, intStr, pyRepr, pyStr } from './python-str.js';
import type { Runtime } from './runtime.js';
import { TemplateError, typeError } from './template-error.js';
import {
  isDict,
  isFloat,
  isInt,
  isNumber,
  isString,
  type Kwargs,
  num,
  PyTuple,
  text,
  typeName,
  Undefined,
  type Value,
} from './values.js';

/** Python's `'%s-%d' % args`, which Jinja2 uses for `%` on strings and for the `format` filter. */
export function percentFormat(rt: Runtime, fmt: string, args: Value): string {
  const positional = args instanceof PyTuple ? args.items : [args];
  const mapping = isDict(args) ? args : undefined;
  let next = 0;
  let out = '';
  const re = /%(?:\(([^)]*)\))?([-+ #0]*)(\d+|\*)?(?:\.(\d+|\*))?[hlL]?([diouxXeEfFgGcrsa%])/g;
  let last = 0;
  for (let m = re.exec(fmt); m; m = re.exec(fmt)) {
    out += fmt.slice(last, m.index);
    last = re.lastIndex;
    const [, key, flags = '', widthText, precText, type] = m;
    if (type === '%') {
      out += '%';
      continue;
    }
    const take = (): Value => {
      if (next >= positional.length) throw typeError('not enough arguments for format string');
      return positional[next++]!;
    };
    const width = widthText === '*' ? Number(num(take() as number)) : Number(widthText ?? 0);
    const precision =
      precText === '*'
        ? Number(num(take() as number))
        : precText === undefined
          ? undefined
          : Number(precText);
    let value: Value;
    if (key !== undefined) {
      if (!mapping) throw typeError('format requires a mapping');
      if (!Object.hasOwn(mapping, key)) throw new TemplateError('type', `KeyError: '${key}'`);
      value = mapping[key]!;
    } else value = take();
    rt.checkLength(width);
    out += formatOne(type!, value, flags, width, precision);
  }
  if (!mapping && next < positional.length && args instanceof PyTuple) {
    throw typeError('not all arguments converted during string formatting');
  }
  return out + fmt.slice(last);
}

function formatOne(type: string, value: Value, flags: string, width: number, precision?: number): string {
  if (value instanceof Undefined && type !== 's') failUndefined(value);
  let body: string;
  let numeric = true;
  switch (type) {
    case 's':
      body = pyStr(value);
      numeric = false;
      if (precision !== undefined) body = body.slice(0, precision);
      break;
    case 'r':
    case 'a':
      body = pyRepr(value);
      numeric = false;
      if (precision !== undefined) body = body.slice(0, precision);
      break;
    case 'c':
      body = typeof value === 'string' ? value : String.fromCodePoint(toNumber(value, type));
      numeric = false;
      break;
    default:
      body = formatNumber(type, toNumber(value, type), flags, precision);
  }
  return pad(body, flags, width, numeric);
}

function toNumber(value: Value, type: string): number {
  if (!isNumber(value)) {
    throw typeError(`%${type} format: a real number is required, not ${typeName(value)}`);
  }
  return num(value);
}

function formatNumber(type: string, n: number, flags: string, precision?: number): string {
  const sign = n < 0 || Object.is(n, -0) ? '-' : flags.includes('+') ? '+' : flags.includes(' ') ? ' ' : '';
  const a = Math.abs(n);
  const alt = flags.includes('#');
  let digits: string;
  switch (type) {
    case 'd':
    case 'i':
    case 'u':
      digits = intStr(Math.trunc(a));
      break;
    case 'o':
      digits = (alt ? '0o' : '') + Math.trunc(a).toString(8);
      break;
    case 'x':
      digits = (alt ? '0x' : '') + Math.trunc(a).toString(16);
      break;
    case 'X':
      digits = (alt ? '0X' : '') + Math.trunc(a).toString(16).toUpperCase();
      break;
    default:
      digits = formatFloat(type, a, precision ?? 6, alt);
  }
  return sign + digits;
}

/** e, f and g the way Python's printf and format() write them (two-digit exponents, g's zero stripping). */
export function formatFloat(type: string, a: number, precision: number, alt = false): string {
  if (!Number.isFinite(a)) {
    const s = Number.isNaN(a) ? 'nan' : 'inf';
    return type === type.toUpperCase() ? s.toUpperCase() : s;
  }
  const upper = type === 'E' || type === 'G' || type === 'F';
  let s: string;
  if (type === 'f' || type === 'F') s = toFixedPy(a, precision);
  else if (type === 'e' || type === 'E') s = expForm(a.toExponential(precision));
  else {
    const p = precision === 0 ? 1 : precision;
    const exp = Number(a.toExponential(p - 1).split('e')[1]);
    if (exp >= -4 && exp < p) {
      s = toFixedPy(a, Math.max(0, p - 1 - exp));
      if (!alt && s.includes('.')) s = s.replace(/\.?0+$/, '');
    } else {
      s = a.toExponential(p - 1);
      if (!alt) s = s.replace(/\.?0+e/, 'e');
      s = expForm(s);
    }
  }
  return upper ? s.toUpperCase() : s;
}

/** JavaScript writes `1.5e+4`; Python `1.5e+04`. */
function expForm(s: string): string {
  return s.replace(/e([+-])(\d)$/, 'e$10$2');
}

function pad(body: string, flags: string, width: number, numeric: boolean): string {
  if (body.length >= width) return body;
  if (flags.includes('-')) return body.padEnd(width);
  if (numeric && flags.includes('0')) {
    const sign = /^[-+ ]/.test(body) ? body[0]! : '';
    return sign + body.slice(sign.length).padStart(width - sign.length, '0');
  }
  return body.padStart(width);
}

/** Python's str.format, with the sandbox's attribute rules for `{0.attr}` and `{0[key]}` fields. */
export function strFormat(rt: Runtime, fmt: string, args: Value[], kwargs: Kwargs): string {
  let auto = 0;
  let out = '';
  let i = 0;
  while (i < fmt.length) {
    const c = fmt[i]!;
    if ((c === '{' || c === '}') && fmt[i + 1] === c) {
      out += c;
      i += 2;
      continue;
    }
    if (c === '}') throw new TemplateError('type', "Single '}' encountered in format string");
    if (c !== '{') {
      out += c;
      i++;
      continue;
    }
    const end = fmt.indexOf('}', i);
    if (end === -1) throw new TemplateError('type', "Single '{' encountered in format string");
    const field = fmt.slice(i + 1, end);
    i = end + 1;
    const m = /^([^.[!:]*)((?:\.[^.[!:]+|\[[^\]]*\])*)(?:!([rsa]))?(?::(.*))?$/.exec(field);
    if (!m) throw new TemplateError('type', `bad format field '${field}'`);
    const [, head = '', path = '', conv, spec = ''] = m;
    let value: Value;
    if (head === '') value = arg(args, auto++);
    else if (/^\d+$/.test(head)) value = arg(args, Number(head));
    else if (Object.hasOwn(kwargs, head)) value = kwargs[head]!;
    else throw new TemplateError('type', `KeyError: '${head}'`);
    for (const part of path.match(/\.[^.[]+|\[[^\]]*\]/g) ?? []) {
      if (part.startsWith('.')) value = rt.getattr(value, part.slice(1));
      else {
        const key = part.slice(1, -1);
        value = rt.getitem(value, /^\d+$/.test(key) ? Number(key) : key);
      }
    }
    if (conv === 'r' || conv === 'a') value = pyRepr(value);
    else if (conv === 's') value = pyStr(value);
    out += formatSpec(rt, value, spec);
  }
  return out;
}

function arg(args: Value[], index: number): Value {
  if (index >= args.length) {
    throw new TemplateError('type', `Replacement index ${index} out of range for positional args tuple`);
  }
  return args[index]!;
}

/** Python's format-spec mini language: [[fill]align][sign][#][0][width][,_][.precision][type]. */
export function formatSpec(rt: Runtime, value: Value, spec: string): string {
  if (spec === '') return pyStr(value);
  if (value === null || isDict(value) || Array.isArray(value) || value instanceof PyTuple) {
    throw typeError(`unsupported format string passed to ${typeName(value)}.__format__`);
  }
  const m = /^(?:(.)?([<>=^]))?([-+ ])?(#)?(0)?(\d+)?([,_])?(?:\.(\d+))?([bcdeEfFgGnosxX%])?$/su.exec(spec);
  if (!m) throw new TemplateError('type', `Invalid format specifier '${spec}'`);
  const [, fillChar, alignChar, signChar = '-', alt, zero, widthText, group, precText, type] = m;
  const width = Number(widthText ?? 0);
  rt.checkLength(width);
  const precision = precText === undefined ? undefined : Number(precText);
  let body: string;
  let numeric = false;
  if (value instanceof Undefined) body = '';
  else if (isString(value) && (type === undefined || type === 's')) {
    body = precision === undefined ? text(value) : text(value).slice(0, precision);
  } else if (isNumber(value) && (type !== undefined || isInt(value) || isFloat(value))) {
    numeric = true;
    body = formatSpecNumber(value, type, signChar, alt === '#', group, precision);
  } else if (type === undefined || type === 's') body = pyStr(value);
  else
    throw new TemplateError('type', `Unknown format code '${type}' for object of type '${typeName(value)}'`);
  const align = alignChar ?? (numeric ? (zero ? '=' : '>') : '<');
  const fill = fillChar ?? (zero && !alignChar ? '0' : ' ');
  return align3(body, align, fill, width);
}

function formatSpecNumber(
  value: number | boolean | import('./values.js').PyFloat,
  type: string | undefined,
  signChar: string,
  alt: boolean,
  group: string | undefined,
  precision: number | undefined,
): string {
  const n = num(value);
  const sign = n < 0 || Object.is(n, -0) ? '-' : signChar === '+' ? '+' : signChar === ' ' ? ' ' : '';
  const a = Math.abs(n);
  let digits: string;
  const t = type ?? (isInt(value) ? 'd' : '');
  switch (t) {
    case 'd':
    case 'n':
      digits = intStr(a);
      break;
    case 'b':
      digits = (alt ? '0b' : '') + a.toString(2);
      break;
    case 'o':
      digits = (alt ? '0o' : '') + a.toString(8);
      break;
    case 'x':
      digits = (alt ? '0x' : '') + a.toString(16);
      break;
    case 'X':
      digits = (alt ? '0X' : '') + a.toString(16).toUpperCase();
      break;
    case 'c':
      return String.fromCodePoint(a);
    case '%':
      digits = `${(a * 100).toFixed(precision ?? 6)}%`;
      break;
    case '':
      digits = precision === undefined ? floatRepr(a) : formatFloat('g', a, precision, false);
      break;
    default:
      digits = formatFloat(t, a, precision ?? 6, alt);
  }
  if (group) digits = groupDigits(digits, group);
  return sign + digits;
}

function groupDigits(digits: string, sep: string): string {
  const m = /^(\d+)(.*)$/.exec(digits);
  if (!m) return digits;
  return m[1]!.replace(/\B(?=(\d{3})+(?!\d))/g, sep) + m[2];
}

function align3(body: string, align: string, fill: string, width: number): string {
  const gap = width - [...body].length;
  if (gap <= 0) return body;
  if (align === '<') return body + fill.repeat(gap);
  if (align === '^') return fill.repeat(Math.floor(gap / 2)) + body + fill.repeat(gap - Math.floor(gap / 2));
  if (align === '=') {
    const sign = /^[-+ ]/.test(body) ? body[0]! : '';
    return sign + fill.repeat(gap) + body.slice(sign.length);
  }
  return fill.repeat(gap) + body;
}

/**
 * x.toFixed(n) as Python rounds: JavaScript rounds an exact tie (2.25 to one digit) up, Python to even.
 * A tie is exact only when the double's full decimal expansion ends in 5 right after the kept digits.
 */
export function toFixedPy(x: number, n: number): string {
  const fixed = x.toFixed(n);
  if (n > 50 || !Number.isFinite(x)) return fixed;
  const exact = Math.abs(x).toFixed(n + 50);
  const cut = exact.length - 50;
  if (!/^50*$/.test(exact.slice(cut))) return fixed;
  const kept = exact.slice(0, cut).replace(/\.$/, '');
  const lastDigit = Number(kept[kept.length - 1]);
  if (lastDigit % 2 === 1) return fixed; // rounding up lands on an even digit, as toFixed did
  return (x < 0 ? '-' : '') + kept; // the even digit below the tie
}
