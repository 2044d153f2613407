import { describe, expect, it } from 'vitest';
import { ndjsonChunks, ndjsonValues } from '../../src/util/ndjson.js';

/** The text as a stream cut into pieces of `size` bytes (lines and characters split anywhere). */
async function* pieces(text: string, size: number): AsyncGenerator<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function all(stream: AsyncIterable<unknown>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const v of stream) out.push(v);
  return out;
}

describe('newline-delimited JSON', () => {
  const values = [{ id: 'a', name: 'zażółć' }, { id: 'b', ips: ['10.0.0.1'] }, 3, 'x'];
  const text = [...ndjsonChunks(values, { end: { count: 4 } }, 2)].join('');

  it('writes batches of lines and ends with the trailer', () => {
    const chunks = [...ndjsonChunks(values, { end: { count: 4 } }, 2)];
    expect(chunks).toEqual([
      '{"id":"a","name":"zażółć"}\n{"id":"b","ips":["10.0.0.1"]}\n',
      '3\n"x"\n',
      '{"end":{"count":4}}\n',
    ]);
    expect([...ndjsonChunks([1, 2, 3], { end: { count: 3 } }, 2)]).toEqual([
      '1\n2\n',
      '3\n{"end":{"count":3}}\n',
    ]);
    expect([...ndjsonChunks([], undefined)]).toEqual([]);
  });

  it.each([1, 2, 3, 7, 1000])('reads the same values whatever the chunk size (%i bytes)', async (size) => {
    expect(await all(ndjsonValues(pieces(text, size)))).toEqual([...values, { end: { count: 4 } }]);
  });

  it('skips blank lines and reads a last line without its newline', async () => {
    expect(await all(ndjsonValues(pieces('1\n\n  \n2', 3)))).toEqual([1, 2]);
  });

  it('names the line that is not JSON (counting the lines that are not blank)', async () => {
    await expect(all(ndjsonValues(pieces('1\n2\n{"id": \n4\n', 4)))).rejects.toThrow(/line 3 is not JSON/);
  });
});
