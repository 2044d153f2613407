import type { ChildProcess } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { fenceViolations, type Instance, type LogLine } from '../helpers/fleet.js';

/** The multi-instance tests trust this log check: it must find the overlaps it is meant to find. */
const inst = (id: string, lines: [number, string, string, number, boolean?][]): Instance => ({
  id,
  child: {} as ChildProcess,
  lines: lines.map(
    ([time, msg, preset, fence, takenOver]): LogLine => ({
      time,
      msg,
      preset,
      fence,
      instance: id,
      takenOver,
    }),
  ),
});

describe('fenceViolations', () => {
  it('accepts holders one after another', () => {
    const a = inst('a', [
      [1, 'lease taken', 'p', 1],
      [2, 'created VM', 'p', 1],
      [3, 'lease released', 'p', 1],
    ]);
    const b = inst('b', [
      [3, 'lease taken', 'p', 2],
      [4, 'terminated VM', 'p', 2],
    ]);
    expect(fenceViolations([a, b])).toEqual([]);
  });

  it('orders a take and a release of one fence in the same millisecond as take, then release', () => {
    // Seen in CI: c took and released 3383 within one ms; a later take by a is no overlap.
    const c = inst('c', [
      [5, 'lease released', 'p', 3],
      [5, 'lease taken', 'p', 3],
    ]);
    const a = inst('a', [[9, 'lease taken', 'p', 4]]);
    expect(fenceViolations([c, a])).toEqual([]);
    const stillHeld = inst('c', [[5, 'lease taken', 'p', 3]]);
    expect(fenceViolations([stillHeld, a])).toHaveLength(1);
  });

  it('finds a lease taken while another instance still held it, unless it was a takeover', () => {
    const a = inst('a', [
      [1, 'lease taken', 'p', 1],
      [5, 'lease released', 'p', 1],
    ]);
    expect(fenceViolations([a, inst('b', [[3, 'lease taken', 'p', 2]])])).toHaveLength(1);
    expect(fenceViolations([a, inst('b', [[3, 'lease taken', 'p', 2, true]])])).toEqual([]);
  });

  it('finds an action with an older token after a newer lease was taken', () => {
    const a = inst('a', [
      [1, 'lease taken', 'p', 1],
      [6, 'created VM', 'p', 1],
    ]);
    const b = inst('b', [[4, 'lease taken', 'p', 2, true]]);
    expect(fenceViolations([a, b])).toEqual([expect.objectContaining({ preset: 'p' })]);
  });

  it('does not count a killed holder, which never logs its release', () => {
    const a = inst('a', [[1, 'lease taken', 'p', 1]]);
    const b = inst('b', [[8, 'lease taken', 'p', 2]]);
    expect(fenceViolations([a, b], new Map([['a', 5]]))).toEqual([]);
    expect(fenceViolations([a, b])).toHaveLength(1);
  });

  it('takes a holder that logged its lease lost as no longer holding, but not one that logged it too late', () => {
    const lostFirst = inst('a', [
      [1, 'lease taken', 'p', 1],
      [4, 'lease lost', 'p', 1],
    ]);
    const b = inst('b', [[6, 'lease taken', 'p', 2]]);
    expect(fenceViolations([lostFirst, b])).toEqual([]);
    const lostLate = inst('a', [
      [1, 'lease taken', 'p', 1],
      [7, 'lease lost', 'p', 1],
    ]);
    expect(fenceViolations([lostLate, b])).toHaveLength(1);
  });

  it('takes a lease taken over while its holder was frozen as free, but not one taken before the freeze', () => {
    const a = inst('a', [[1, 'lease taken', 'p', 1]]);
    const b = inst('b', [[8, 'lease taken', 'p', 2]]);
    expect(fenceViolations([a, b], new Map(), new Map([['a', [[5, 12]]]]))).toEqual([]);
    expect(fenceViolations([a, b], new Map(), new Map([['a', [[9, 12]]]]))).toHaveLength(1);
    // Its action after it runs again, with the old token, is still found.
    const late = inst('a', [
      [1, 'lease taken', 'p', 1],
      [13, 'created VM', 'p', 1],
    ]);
    expect(fenceViolations([late, b], new Map(), new Map([['a', [[5, 12]]]]))).toHaveLength(1);
  });
});
