/** The media type of newline-delimited JSON: one JSON value per line. */
export const NDJSON = 'application/x-ndjson';

/**
 * The lines of a newline-delimited stream (blank ones skipped), each as soon as it is complete. A large
 * listing never exists as one text: only the current chunk and the line being completed are held, and
 * the lines handed on.
 */
export async function* ndjsonLines(body: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let pending = '';
  for await (const chunk of body) {
    pending += decoder.decode(chunk, { stream: true });
    let start = 0;
    for (let end = pending.indexOf('\n'); end !== -1; end = pending.indexOf('\n', start)) {
      const text = pending.slice(start, end);
      start = end + 1;
      if (text.trim() !== '') yield text;
    }
    pending = pending.slice(start);
  }
  pending += decoder.decode();
  if (pending.trim() !== '') yield pending;
}

/** The values of a newline-delimited JSON stream; a line that is not JSON throws an Error naming it. */
export async function* ndjsonValues(body: AsyncIterable<Uint8Array>): AsyncGenerator<unknown> {
  let line = 0;
  for await (const text of ndjsonLines(body)) yield parseLine(text, ++line);
}

function parseLine(text: string, line: number): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`line ${line} is not JSON: ${(err as Error).message}`);
  }
}

/**
 * `values` as newline-delimited JSON text, `batch` values per chunk (a chunk per value would cost a
 * write each), ending with `trailer` when given: a reader can then tell a complete stream from one
 * cut short.
 */
export function* ndjsonChunks(values: Iterable<unknown>, trailer?: unknown, batch = 256): Generator<string> {
  let chunk = '';
  let n = 0;
  for (const value of values) {
    chunk += `${JSON.stringify(value)}\n`;
    if (++n === batch) {
      yield chunk;
      chunk = '';
      n = 0;
    }
  }
  if (trailer !== undefined) chunk += `${JSON.stringify(trailer)}\n`;
  if (chunk !== '') yield chunk;
}
