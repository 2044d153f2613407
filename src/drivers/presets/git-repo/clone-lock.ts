const tails = new Map<string, Promise<void>>();

/**
 * Runs `fn` when no other work holds the clone at `dir` in this process: two fetches of one clone never
 * overlap, even across two store instances (a reload builds the new store before closing the old one).
 */
export function withCloneLock<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const previous = tails.get(dir) ?? Promise.resolve();
  const run = previous.then(fn);
  const tail = run.then(
    () => undefined,
    () => undefined,
  );
  tails.set(dir, tail);
  void tail.then(() => {
    if (tails.get(dir) === tail) tails.delete(dir);
  });
  return run;
}
