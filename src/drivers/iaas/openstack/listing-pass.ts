import type { NovaServer } from './server-view.js';

/** A server Nova has not placed in a cell yet: its listing comes from the API database's build requests. */
export function isScheduling(s: Pick<NovaServer, 'status' | 'OS-EXT-STS:task_state'>): boolean {
  return s.status === 'BUILD' && s['OS-EXT-STS:task_state'] === 'scheduling';
}

/**
 * Whether one pass over Nova's server pages (each page as Nova returned it, `limit` servers at most) is
 * known to hold every server that existed when it began.
 *
 * Nova answers a page with two queries: servers waiting for a cell (build requests, always `scheduling`)
 * first, then the cells' servers up to the rest of the limit, and drops a server found in both (it is in
 * both for a moment while it moves). So, while servers are being scheduled:
 * - a page can come back shorter than the limit with servers left out, and without a `next` link;
 * - a server that moves to its cell between two pages can land behind the marker, putting others out of
 *   order.
 * Without a server waiting, neither can happen. A single page holding waiting servers is still complete
 * when it is short enough that no query was cut by the limit: each waiting server hides at most one
 * duplicate, so `length + waiting < limit` proves both queries returned everything.
 */
export function passComplete(pages: readonly (readonly NovaServer[])[], limit: number): boolean {
  let waiting = 0;
  for (const page of pages) for (const s of page) if (isScheduling(s)) waiting++;
  if (waiting === 0) return true;
  const [only, ...more] = pages;
  return more.length === 0 && (only?.length ?? 0) + waiting < limit;
}
