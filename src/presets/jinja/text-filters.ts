/** Jinja2's text filters that are more than a string method: indent, truncate, striptags, title, capitalize. */
import { unescapeHtml } from './escape.js';
import { splitLines } from './line-breaks.js';
import { chars } from './operators.js';
import { pySplit } from './str-methods.js';
import { TemplateError } from './template-error.js';
import { isString, num, text, type Value } from './values.js';

export function indent(s: string, width: Value, first: boolean, blank: boolean): string {
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

export function truncate(s: string, len: number, killwords: boolean, end: string, leeway: number): string {
  if (len < end.length) throw new TemplateError('type', `expected length >= ${end.length}, got ${len}`);
  const cs = chars(s);
  if (cs.length <= len + leeway) return s;
  const head = cs.slice(0, Math.max(0, len - end.length)).join('');
  if (killwords) return head + end;
  const cut = head.lastIndexOf(' ');
  return (cut === -1 ? head : head.slice(0, cut)) + end;
}

/** markupsafe's striptags: comments, then tags, removed; spaces collapsed; entities decoded. */
export function striptags(s: string): string {
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

export function title(s: string): string {
  return s
    .split(/([-\s({[<]+)/)
    .filter((x) => x)
    .map((x) => {
      const cs = chars(x);
      return cs[0]!.toUpperCase() + cs.slice(1).join('').toLowerCase();
    })
    .join('');
}

export function capitalize(s: string): string {
  const cs = chars(s);
  return cs.length ? cs[0]!.toUpperCase() + cs.slice(1).join('').toLowerCase() : '';
}
