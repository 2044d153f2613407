import { ShepherdError } from '../errors/shepherd-error.js';

export interface Page<T> {
  items: T[];
  total: number;
  next: string | null;
}

/** The list's order: the one `StateReader.all` sorts by. */
const byName = (a: string, b: string) => a.localeCompare(b);

/**
 * An opaque cursor: the name of the last preset of the page (the list is in name order, so the next
 * page starts after it). A preset added or removed between two pages moves no other preset from one
 * page to another, as an offset would.
 */
export function cursorOf(lastName: string): string {
  return Buffer.from(JSON.stringify({ after: lastName })).toString('base64url');
}

export function afterOf(cursor: string): string {
  let after: unknown;
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw new Error('not base64url');
    after = (JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { after?: unknown }).after;
  } catch {
    after = undefined;
  }
  if (typeof after !== 'string' || after === '')
    throw new ShepherdError('api_page_0001', 'cursor: not a `next` value of this list');
  return after;
}

/** The page of `limit` items after the cursor's name (from the first item without a cursor). */
export function pageOf<T extends { name: string }>(
  list: readonly T[],
  limit: number,
  cursor: string | undefined,
): Page<T> {
  const after = cursor === undefined ? undefined : afterOf(cursor);
  const start = after === undefined ? 0 : firstAfter(list, after);
  const items = list.slice(start, start + limit);
  const last = items[items.length - 1];
  const more = start + items.length < list.length;
  return { items, total: list.length, next: more && last ? cursorOf(last.name) : null };
}

/** Index of the first item whose name sorts after `name` (binary search: the list is sorted). */
function firstAfter(list: readonly { name: string }[], name: string): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (byName((list[mid] as { name: string }).name, name) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
