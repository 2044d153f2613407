import { describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon/daemon.js';
import { StateReader } from '../../src/http/state-reader.js';

describe('StateReader.memo', () => {
  it('keeps the latest 256 responses and drops only the oldest past that', async () => {
    // memo never asks the daemon: responses are built by the caller.
    const reader = new StateReader({} as Daemon, 60_000);
    const builds = new Map<string, number>();
    const get = (key: string) =>
      reader.memo(key, async () => {
        builds.set(key, (builds.get(key) ?? 0) + 1);
        return key;
      });
    for (let i = 1; i <= 300; i++) await get(`page-${i}`);
    // Asked again newest first (hits add nothing): the latest 256 were kept, the 44 oldest were not.
    for (let i = 300; i >= 1; i--) expect(await get(`page-${i}`)).toBe(`page-${i}`);
    const rebuilt = [...builds].filter(([, n]) => n > 1).map(([k]) => Number(k.slice(5)));
    expect(rebuilt.sort((x, y) => x - y)).toEqual(Array.from({ length: 44 }, (_, i) => i + 1));
  });
});
