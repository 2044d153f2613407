import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RequestGate } from '../../src/api/request-gate.js';

describe('RequestGate', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  /** A gate on the fake clock, with a switch for "a cycle runs". */
  function gate(rate: number) {
    const state = { busy: false };
    const g = new RequestGate({ rate: () => rate, busy: () => state.busy, now: () => Date.now() });
    const passed: number[] = [];
    const enter = (id: number) => g.enter(() => passed.push(id));
    return { g, state, passed, enter };
  }

  it('lets every request through at once between cycles', () => {
    const { enter, passed } = gate(100);
    for (let i = 0; i < 1000; i++) expect(enter(i)).toBe(true);
    expect(passed).toHaveLength(1000);
  });

  it('paces requests at the rate while a cycle runs, in arrival order', async () => {
    const { enter, passed, state, g } = gate(100);
    state.busy = true;
    for (let i = 0; i < 50; i++) enter(i);
    // A burst of 20 ms' worth (2 at 100/s) passes at once, then one per 10 ms.
    expect(passed).toEqual([0, 1, 2]);
    await vi.advanceTimersByTimeAsync(100);
    expect(passed.length).toBeGreaterThanOrEqual(12);
    expect(passed.length).toBeLessThanOrEqual(14);
    expect(passed).toEqual([...passed].sort((a, b) => a - b));
    expect(g.waitingCount).toBe(50 - passed.length);
  });

  it('releases the waiting requests once the cycle ends', async () => {
    const { enter, passed, state, g } = gate(10);
    state.busy = true;
    for (let i = 0; i < 30; i++) enter(i);
    expect(passed.length).toBeLessThan(5);
    state.busy = false;
    await vi.advanceTimersByTimeAsync(150);
    expect(passed).toHaveLength(30);
    expect(g.waitingCount).toBe(0);
    // And new arrivals pass at once again.
    enter(99);
    expect(passed.at(-1)).toBe(99);
  });

  it('refuses a request once two seconds of requests wait, and never calls it', async () => {
    const { enter, passed, state } = gate(100);
    state.busy = true;
    const admitted = Array.from({ length: 300 }, (_, i) => enter(i));
    // 3 passed at once, then 200 (two seconds at 100/s) may wait; the rest are refused.
    expect(admitted.filter(Boolean)).toHaveLength(203);
    await vi.advanceTimersByTimeAsync(5000);
    expect(passed).toHaveLength(203);
    expect(passed.every((id) => id < 203)).toBe(true);
  });

  it('does not pace at all with rate 0', () => {
    const { enter, passed, state } = gate(0);
    state.busy = true;
    for (let i = 0; i < 500; i++) enter(i);
    expect(passed).toHaveLength(500);
  });
});
