/** Own enumerable keys of a record, counted without building an array of them (hot per-preset paths). */
export function keyCount(record: Readonly<Record<string, unknown>>): number {
  let n = 0;
  for (const _ in record) n++;
  return n;
}
