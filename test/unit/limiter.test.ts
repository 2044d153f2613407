import { describe, expect, it } from 'vitest';
import { Limiter } from '../../src/util/limiter.js';

/** A task that finishes when told to, recording when it started. */
function gate(log: string[], name: string) {
  let open!: (v: string) => void;
  let fail!: (e: Error) => void;
  const done = new Promise<string>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return {
    task: () => {
      log.push(`start ${name}`);
      return done;
    },
    open: () => open(name),
    fail: () => fail(new Error(`${name} failed`)),
  };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('Limiter', () => {
  it('runs at most `concurrency` tasks at once, the waiting ones in arrival order', async () => {
    const log: string[] = [];
    const limiter = new Limiter(2);
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((n) => gate(log, n)) as ReturnType<typeof gate>[];
    const results = [a, b, c, d].map((g) => limiter.add(g!.task));
    await tick();
    expect(log).toEqual(['start a', 'start b']);
    expect(limiter.size).toEqual({ active: 2, waiting: 2 });
    b!.open();
    await tick();
    expect(log).toEqual(['start a', 'start b', 'start c']);
    a!.open();
    c!.open();
    d!.open();
    expect(await Promise.all(results)).toEqual(['a', 'b', 'c', 'd']);
    expect(limiter.size).toEqual({ active: 0, waiting: 0 });
  });

  it('frees the slot of a task that rejects or throws, and passes the error on', async () => {
    const log: string[] = [];
    const limiter = new Limiter(1);
    const a = gate(log, 'a');
    const failing = limiter.add(a.task);
    const throwing = limiter.add(() => {
      throw new Error('thrown');
    });
    const after = limiter.add(async () => 'after');
    a.fail();
    await expect(failing).rejects.toThrow('a failed');
    await expect(throwing).rejects.toThrow('thrown');
    expect(await after).toBe('after');
    expect(limiter.size).toEqual({ active: 0, waiting: 0 });
  });
});
