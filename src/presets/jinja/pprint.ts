import { pyRepr, strRepr } from './python-str.js';
import { type Dict, DictView, isDict, newDict, PyRange, PyTuple, type Value } from './values.js';

/** pprint's width, which Jinja2's `pprint` filter leaves at its default. */
const WIDTH = 80;

/** Dicts with their keys sorted, all the way down: what pprint's _safe_repr prints. */
function sortedRepr(v: Value): string {
  const sorted = (x: Value): Value => {
    if (isDict(x))
      return newDict(
        Object.keys(x)
          .sort()
          .map((k) => [k, sorted(x[k]!)]),
      );
    if (Array.isArray(x)) return x.map(sorted);
    if (x instanceof PyTuple && !(x instanceof DictView) && !(x instanceof PyRange)) {
      return new PyTuple(x.items.map(sorted));
    }
    return x;
  };
  return pyRepr(sorted(v));
}

/**
 * Python's pprint.pformat(value): the repr when it fits in 80 columns, else dicts, lists and tuples one
 * item per line and long strings split into adjacent literals, as Python's PrettyPrinter lays them out.
 */
export function pformat(value: Value): string {
  const out: string[] = [];
  const write = (s: string) => out.push(s);

  const format = (obj: Value, indent: number, allowance: number, level: number): void => {
    const rep = sortedRepr(obj);
    const tooWide = rep.length > WIDTH - indent - allowance;
    const plainTuple = obj instanceof PyTuple && !(obj instanceof DictView) && !(obj instanceof PyRange);
    if (tooWide && isDict(obj)) formatDict(obj, indent, allowance, level + 1);
    else if (tooWide && Array.isArray(obj)) formatSeq(obj, '[', ']', indent, allowance, level + 1);
    else if (tooWide && plainTuple) {
      const items = (obj as PyTuple).items;
      formatSeq(items, '(', items.length === 1 ? ',)' : ')', indent, allowance, level + 1);
    } else if (tooWide && typeof obj === 'string') formatStr(obj, indent, allowance, level + 1);
    else write(rep);
  };

  const formatDict = (d: Dict, indent: number, allowance: number, level: number): void => {
    write('{');
    const keys = Object.keys(d).sort();
    const inner = indent + 1;
    keys.forEach((key, i) => {
      const last = i === keys.length - 1;
      const rep = strRepr(key);
      write(`${rep}: `);
      format(d[key]!, inner + rep.length + 2, last ? allowance + 1 : 1, level);
      if (!last) write(`,\n${' '.repeat(inner)}`);
    });
    write('}');
  };

  const formatSeq = (
    items: Value[],
    open: string,
    close: string,
    indent: number,
    allowance: number,
    level: number,
  ) => {
    write(open);
    const inner = indent + 1;
    items.forEach((item, i) => {
      const last = i === items.length - 1;
      if (i > 0) write(`,\n${' '.repeat(inner)}`);
      format(item, inner, last ? allowance + close.length : 1, level);
    });
    write(close);
  };

  const formatStr = (s: string, indentIn: number, allowanceIn: number, level: number): void => {
    const top = level === 1;
    const indent = top ? indentIn + 1 : indentIn;
    const allowance = top ? allowanceIn + 1 : allowanceIn;
    const chunks = strChunks(s, indent, allowance);
    if (chunks.length === 1) {
      write(chunks[0]!);
      return;
    }
    if (top) write('(');
    write(chunks.join(`\n${' '.repeat(indent)}`));
    if (top) write(')');
  };

  format(value, 0, 0, 0);
  return out.join('');
}

/** A long string's pieces as pprint splits it: at line ends, then at word ends to fit the width. */
function strChunks(s: string, indent: number, allowance: number): string[] {
  const lines = s.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  const chunks: string[] = [];
  lines.forEach((line, i) => {
    const lastLine = i === lines.length - 1;
    const rep = strRepr(line);
    if (rep.length <= WIDTH - indent - (lastLine ? allowance : 0)) {
      chunks.push(rep);
      return;
    }
    const parts = line.match(/\S*\s*/g)?.filter((p) => p !== '') ?? [];
    let current = '';
    parts.forEach((part, j) => {
      const candidate = current + part;
      const limit = WIDTH - indent - (lastLine && j === parts.length - 1 ? allowance : 0);
      if (strRepr(candidate).length > limit) {
        if (current) chunks.push(strRepr(current));
        current = part;
      } else current = candidate;
    });
    if (current) chunks.push(strRepr(current));
  });
  return chunks;
}
