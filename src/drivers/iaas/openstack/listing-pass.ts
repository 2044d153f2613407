import type { NovaServer } from './server-view.js';

/** A server Nova has not placed in a cell yet: its listing comes from the API database's build requests. */
export function isScheduling(s: Pick<NovaServer, 'status' | 'OS-EXT-STS:task_state'>): boolean {
  return s.status === 'BUILD' && s['OS-EXT-STS:task_state'] === 'scheduling';
}

/** After a page: ask for the page after `marker`, or stop, the pass known to be whole or not. */
export type PassStep = { marker: string } | { whole: boolean };

/**
 * Where one pass over Nova's server pages goes next, and whether it can be trusted to hold every server
 * that existed when it began (pure: the caller fetches the pages).
 *
 * How Nova answers a page: when the marker is a build request (or there is none), the servers waiting
 * for a cell (build requests, always BUILD/`scheduling`) come first, then the cells' servers from the top
 * up to the rest of the limit, and a server found in both (it is, for a moment, while it moves) is dropped
 * from the cells' part. Such a page can come back short, without a `next` link, with servers left out.
 * When the marker is a server in a cell, build requests are skipped and the page comes from the cells
 * alone: nothing is dropped and a short page is the end.
 *
 * So the marker is always a server certainly in a cell: one not waiting and not in ERROR (a server Nova
 * could not schedule is written to cell0 before its build request is deleted, so for a moment it is in
 * both). The first page holds every build request whenever it holds a cell's server too (the cells' part is
 * empty when build requests fill the limit); after it, pages come from the cells, whose order only gains
 * servers that were build requests, listed already. Not whole: a first page of only waiting servers that
 * may go on past the limit, or a page of the cells with no server fit to be a marker while servers wait.
 */
export class ServerPass {
  private fromCells = false;
  private sawWaiting = false;
  private guessed = false;

  constructor(private readonly limit: number) {}

  after(page: readonly NovaServer[], hasNext: boolean): PassStep {
    let waiting = 0;
    let inCell: string | undefined;
    for (const s of page) {
      if (isScheduling(s)) waiting++;
      else if (s.status !== 'ERROR') inCell = s.id;
    }
    this.sawWaiting ||= waiting > 0;
    const last = page.at(-1)?.id;
    if (!this.fromCells) {
      this.fromCells = true;
      // No server waiting: no build request existed, so the page came from the cells alone.
      if (waiting === 0) return hasNext && last ? { marker: last } : { whole: true };
      // Each waiting server hides at most one duplicate: neither query was cut by the limit.
      if (page.length + waiting < this.limit) return { whole: true };
      return inCell ? { marker: inCell } : { whole: false };
    }
    if (!hasNext || !last) return { whole: !this.guessed };
    if (inCell) return { marker: inCell };
    // A full page without a server certainly in a cell: go on after its last one, trusted only when no
    // server was seen waiting (then none of them can still be a build request).
    this.guessed ||= this.sawWaiting;
    return { marker: last };
  }
}
