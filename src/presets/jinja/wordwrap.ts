import { splitLines } from './line-breaks.js';
import { chars } from './operators.js';

/**
 * Jinja2's `wordwrap`: Python's textwrap.wrap on each line (expand_tabs and replace_whitespace off,
 * drop_whitespace on), lines joined with `wrapstring`.
 */
export function wordwrap(
  s: string,
  width: number,
  breakLong: boolean,
  wrapstring: string,
  hyphens: boolean,
): string {
  return splitLines(s)
    .map((line) => wrapLine(line, width, breakLong, hyphens).join(wrapstring))
    .join(wrapstring);
}

/** textwrap's chunks: runs of whitespace, and words split after hyphens between letters. */
function chunksOf(line: string, hyphens: boolean): string[] {
  const out: string[] = [];
  for (const part of line.split(/([\t\n\v\f\r ]+)/)) {
    if (!part) continue;
    if (!hyphens || /[\t\n\v\f\r ]/.test(part[0]!)) {
      out.push(part);
      continue;
    }
    out.push(...part.split(/(?<=\p{L}\p{L}-|\p{L}-\p{L}-)(?=\p{L}-?\p{L})/u));
  }
  return out;
}

function wrapLine(line: string, width: number, breakLong: boolean, hyphens: boolean): string[] {
  if (width <= 0) throw new Error(`invalid width ${width} (must be > 0)`);
  const chunks = chunksOf(line, hyphens).reverse();
  const lines: string[] = [];
  const len = (c: string) => chars(c).length;
  while (chunks.length) {
    const cur: string[] = [];
    let curLen = 0;
    if (/^\s+$/.test(chunks.at(-1)!) && lines.length) chunks.pop();
    while (chunks.length) {
      const l = len(chunks.at(-1)!);
      if (curLen + l > width) break;
      cur.push(chunks.pop()!);
      curLen += l;
    }
    if (chunks.length && len(chunks.at(-1)!) > width) {
      const spaceLeft = width < 1 ? 1 : width - curLen;
      if (breakLong) {
        const chunk = chars(chunks.at(-1)!);
        let end = spaceLeft;
        if (hyphens && chunk.length > spaceLeft) {
          const hyphen = chunk.slice(0, spaceLeft).lastIndexOf('-');
          if (hyphen > 0 && chunk.slice(0, hyphen).some((c) => c !== '-')) end = hyphen + 1;
        }
        cur.push(chunk.slice(0, end).join(''));
        chunks[chunks.length - 1] = chunk.slice(end).join('');
      } else if (!cur.length) {
        cur.push(chunks.pop()!);
      }
    }
    if (cur.length && /^\s+$/.test(cur.at(-1)!)) cur.pop();
    if (cur.length) lines.push(cur.join(''));
  }
  return lines;
}
