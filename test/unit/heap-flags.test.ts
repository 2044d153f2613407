import { describe, expect, it } from 'vitest';
import { DAEMON_V8_FLAGS, flagsToSet } from '../../src/cli/heap-flags.js';

describe('flagsToSet', () => {
  it("sets the daemon's V8 flags unless node's command line already sets them, either way", () => {
    expect(flagsToSet([])).toEqual([...DAEMON_V8_FLAGS]);
    expect(flagsToSet(['--expose-gc'])).toEqual(['--compact-on-every-full-gc']);
    expect(flagsToSet(['--no-compact-on-every-full-gc'])).toEqual([]);
    expect(flagsToSet(['--compact_on_every_full_gc'])).toEqual([]);
  });
});
