import { onAbort } from './abort-fanout.js';

/**
 * Runs one task for many callers without serving any of them a result older than its call: a caller that
 * arrives while a run is in flight waits for the next run, which starts as soon as that one settles and
 * serves everyone who arrived meanwhile. However many callers, at most one run is in flight and one is
 * waiting. (Sharing the run in flight instead would hand a caller a listing that began before its own last
 * action, and it would create that VM again.)
 */
export class NextFlight<T> {
  private running: Promise<T> | undefined;
  private queued: { promise: Promise<T>; start: (run: Promise<T>) => void } | undefined;

  constructor(private readonly task: () => Promise<T>) {}

  /** A result of a run that started at or after this call; the signal only stops this caller's wait. */
  run(signal?: AbortSignal): Promise<T> {
    const result = this.running ? this.next() : this.start();
    return signal ? untilAborted(result, signal) : result;
  }

  private next(): Promise<T> {
    if (!this.queued) {
      let start!: (run: Promise<T>) => void;
      const promise = new Promise<T>((resolve) => {
        start = resolve;
      });
      this.queued = { promise, start };
    }
    return this.queued.promise;
  }

  private start(): Promise<T> {
    const run = Promise.resolve().then(this.task);
    this.running = run;
    // Registered before any caller sees `run`, so the next run is in flight before they can ask again.
    const settled = () => {
      this.running = undefined;
      const queued = this.queued;
      this.queued = undefined;
      if (queued) queued.start(this.start());
    };
    run.then(settled, settled);
    return run;
  }
}

/** `promise`, or the signal's reason once it aborts (the promise itself goes on). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const stopWaiting = onAbort(signal, () => reject(signal.reason));
    promise.then(resolve, reject).finally(stopWaiting);
  });
}
