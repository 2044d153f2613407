import { onAbort } from './abort-fanout.js';

/** Time source of the daemon; tests and the simulated cloud may substitute their own. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /**
   * Milliseconds on a clock that never steps (time elapsed here, for local deadlines); a clock without
   * it (tests' own) is taken to be monotonic itself.
   */
  monotonic?(): number;
}

/** `clock.monotonic()` where the clock has one, else its `now()`. */
export const elapsedMs = (clock: Clock): number => clock.monotonic?.() ?? clock.now();

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const timer = setTimeout(() => {
        stopWaiting();
        resolve();
      }, ms);
      const stopWaiting = signal
        ? onAbort(signal, () => {
            clearTimeout(timer);
            reject(signal.reason);
          })
        : () => {};
    }),
};
