import { floatRepr, intStr } from './python-str.js';
import { TemplateError } from './template-error.js';
import {
  DictView,
  isDict,
  isInt,
  Markup,
  num,
  PyFloat,
  PyRange,
  PyTuple,
  typeName,
  type Value,
} from './values.js';

/**
 * Jinja2's `tojson`: json.dumps(sort_keys=True) with Python's separators and ASCII escapes, then `<`, `>`,
 * `&` and `'` escaped as \u sequences so the result is safe inside HTML.
 */
export function tojson(v: Value, indent: Value): string {
  const ind =
    indent === null ? null : typeof indent === 'string' ? indent : ' '.repeat(num(indent as number));
  return dump(v, ind, '').replace(/[<>&']/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
}

function dump(v: Value, ind: string | null, depth: string): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number' || v instanceof PyFloat) {
    const n = num(v);
    if (Number.isNaN(n)) return 'NaN';
    if (!Number.isFinite(n)) return n > 0 ? 'Infinity' : '-Infinity';
    return isInt(v) ? intStr(n) : floatRepr(n);
  }
  if (typeof v === 'string' || v instanceof Markup) return quote(typeof v === 'string' ? v : v.text);
  const inner = ind === null ? '' : depth + ind;
  const open = ind === null ? '' : `\n${inner}`;
  const close = ind === null ? '' : `\n${depth}`;
  const sep = ind === null ? ', ' : `,\n${inner}`;
  if (v instanceof DictView || v instanceof PyRange) {
    throw new TemplateError('type', `Object of type ${typeName(v)} is not JSON serializable`);
  }
  if (Array.isArray(v) || v instanceof PyTuple) {
    const items = Array.isArray(v) ? v : v.items;
    if (!items.length) return '[]';
    return `[${open}${items.map((x) => dump(x, ind, inner)).join(sep)}${close}]`;
  }
  if (isDict(v)) {
    const keys = Object.keys(v).sort();
    if (!keys.length) return '{}';
    return `{${open}${keys.map((k) => `${quote(k)}: ${dump(v[k]!, ind, inner)}`).join(sep)}${close}}`;
  }
  throw new TemplateError('type', `Object of this type is not JSON serializable`);
}

const JSON_ESCAPES: Record<string, string> = {
  '"': '\\"',
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
  '\f': '\\f',
};

/** json.dumps with ensure_ascii: everything outside printable ASCII as \uXXXX (UTF-16 units, lower case). */
function quote(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: JSON escapes exactly these
  return `"${s.replace(/[\u0000-\u001f"\\\u007f-\uffff]/g, (c) => {
    const e = JSON_ESCAPES[c];
    if (e) return e;
    const code = c.charCodeAt(0);
    return code === 0x7f ? c : `\\u${code.toString(16).padStart(4, '0')}`;
  })}"`;
}
