/** Python's slice semantics (negative bounds, negative step, clamping). */
export function pySlice<T>(
  items: T[],
  start: number | undefined,
  stop: number | undefined,
  step: number,
): T[] {
  const n = items.length;
  const norm = (v: number | undefined, dflt: number, lo: number, hi: number) => {
    if (v === undefined) return dflt;
    const x = v < 0 ? v + n : v;
    return Math.min(Math.max(x, lo), hi);
  };
  const out: T[] = [];
  if (step > 0) {
    const a = norm(start, 0, 0, n);
    const b = norm(stop, n, 0, n);
    for (let i = a; i < b; i += step) out.push(items[i]!);
  } else {
    const a = norm(start, n - 1, -1, n - 1);
    const b = norm(stop, -1, -1, n - 1);
    for (let i = a; i > b; i += step) out.push(items[i]!);
  }
  return out;
}
