/**
 * The characters Python's str.splitlines() breaks on, which Jinja2 uses to normalise a template's
 * newlines and which `indent` and `wordwrap` split on: more than `\n` and `\r`.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: these control characters are line breaks to Python
export const LINE_BREAK = /\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/g;

/** str.splitlines() without ends: no empty last line for a trailing break. */
export function splitLines(s: string): string[] {
  const lines = s.split(LINE_BREAK);
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/** str.splitlines(True): each line keeps its break. */
export function splitLinesKeepEnds(s: string): string[] {
  const out: string[] = [];
  let last = 0;
  for (const m of s.matchAll(LINE_BREAK)) {
    out.push(s.slice(last, m.index + m[0].length));
    last = m.index + m[0].length;
  }
  if (last < s.length) out.push(s.slice(last));
  return out;
}
