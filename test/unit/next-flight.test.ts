import { describe, expect, it } from 'vitest';
import { NextFlight } from '../../src/util/next-flight.js';

/** A task whose runs the test settles by hand; each run resolves with its number. */
function manual() {
  const runs: { n: number; resolve: () => void; reject: (e: Error) => void }[] = [];
  const task = () =>
    new Promise<number>((resolve, reject) => {
      const n = runs.length + 1;
      runs.push({ n, resolve: () => resolve(n), reject });
    });
  return { runs, flight: new NextFlight(task) };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('NextFlight', () => {
  it('serves callers that arrive during a run with the next run, one run for all of them', async () => {
    const { runs, flight } = manual();
    const first = flight.run();
    await tick();
    const late = [flight.run(), flight.run(), flight.run()];
    await tick();
    expect(runs).toHaveLength(1); // the next run waits for the one in flight
    runs[0]!.resolve();
    expect(await first).toBe(1);
    await tick();
    expect(runs).toHaveLength(2);
    runs[1]!.resolve();
    expect(await Promise.all(late)).toEqual([2, 2, 2]);
  });

  it('never hands a caller a run that started before its call', async () => {
    const { runs, flight } = manual();
    const first = flight.run();
    await tick();
    runs[0]!.resolve();
    // Asked again as soon as the first answer arrives: the answer must come from a new run.
    const again = first.then(() => flight.run());
    await tick();
    expect(runs).toHaveLength(2);
    runs[1]!.resolve();
    expect(await again).toBe(2);
  });

  it('runs at once again when nothing is in flight, and passes a failure to that run’s callers only', async () => {
    const { runs, flight } = manual();
    const first = flight.run();
    const queued = (async () => {
      await tick();
      return flight.run();
    })();
    await tick();
    await tick();
    runs[0]!.reject(new Error('listing failed'));
    await expect(first).rejects.toThrow('listing failed');
    await tick();
    runs[1]!.resolve();
    expect(await queued).toBe(2);
    const third = flight.run();
    await tick();
    runs[2]!.resolve();
    expect(await third).toBe(3);
  });

  it("stops a caller's wait when its signal aborts, and the run goes on for the others", async () => {
    const { runs, flight } = manual();
    const controller = new AbortController();
    const other = flight.run();
    const mine = flight.run(controller.signal);
    controller.abort(new Error('lease lost'));
    await expect(mine).rejects.toThrow('lease lost');
    await tick();
    runs[0]!.resolve();
    expect(await other).toBe(1);
    await expect(flight.run(controller.signal)).rejects.toThrow('lease lost');
  });
});
