/** The callers waiting on each signal, behind the one listener the signal has for them all. */
const waiting = new WeakMap<AbortSignal, Set<() => void>>();

/**
 * Calls `fn` once when `signal` aborts, and returns what stops waiting. However many calls wait on one
 * signal (every health check and cloud call of a manage share its signal, one per VM), the signal gets one
 * listener: a listener each would pass Node's limit of 10 and warn (MaxListenersExceededWarning) on
 * every manage of a preset above 10 VMs.
 */
export function onAbort(signal: AbortSignal, fn: () => void): () => void {
  let set = waiting.get(signal);
  if (!set) {
    const callers = new Set<() => void>();
    set = callers;
    waiting.set(signal, callers);
    signal.addEventListener(
      'abort',
      () => {
        waiting.delete(signal);
        for (const caller of [...callers]) caller();
      },
      { once: true },
    );
  }
  const mine = set;
  mine.add(fn);
  return () => {
    mine.delete(fn);
  };
}

/**
 * A signal of one's own that aborts with `signal`, for a library that adds its own listener per call
 * (undici's `request`); `release` once the call is over.
 */
export function childSignal(signal: AbortSignal): { signal: AbortSignal; release: () => void } {
  const controller = new AbortController();
  if (signal.aborted) controller.abort(signal.reason);
  const release = signal.aborted ? () => {} : onAbort(signal, () => controller.abort(signal.reason));
  return { signal: controller.signal, release };
}
