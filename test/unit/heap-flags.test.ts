import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DAEMON_ENV,
  DAEMON_NODE_FLAGS,
  DAEMON_V8_FLAGS,
  daemonShebang,
  flagsToSet,
  heapGrowthFlag,
} from '../../src/cli/heap-flags.js';

describe('flagsToSet', () => {
  it("sets the daemon's V8 flags unless node's command line already sets them, either way", () => {
    expect(flagsToSet([])).toEqual([...DAEMON_V8_FLAGS]);
    expect(flagsToSet(['--expose-gc'])).toEqual([...DAEMON_V8_FLAGS]);
    expect(flagsToSet(['--no-compact-on-every-full-gc'])).toEqual(['--no-allocation-site-pretenuring']);
    expect(flagsToSet(['--compact_on_every_full_gc', '--allocation-site-pretenuring'])).toEqual([]);
  });

  it('compares flags with values by name', () => {
    expect(flagsToSet(['--heap-growing-percent=30'], [heapGrowthFlag(2)])).toEqual([]);
    expect(flagsToSet(['--max-old-space-size=2000'], [heapGrowthFlag(2)])).toEqual([
      '--heap-growing-percent=100',
    ]);
  });
});

describe('heapGrowthFlag', () => {
  it("is V8's percentage above 1, and V8's own choice (0) when unset", () => {
    expect(heapGrowthFlag(2)).toBe('--heap-growing-percent=100');
    expect(heapGrowthFlag(1.5)).toBe('--heap-growing-percent=50');
    expect(heapGrowthFlag(0)).toBe('--heap-growing-percent=0');
    expect(heapGrowthFlag(undefined)).toBe('--heap-growing-percent=0');
  });

  // The point of the setting: it works when the daemon sets it after reading its config, not only on
  // node's command line (where --max-old-space-size would have to be). A V8 that read the flag only at
  // start-up would fail this. The child starts with the daemon's node flags, as the executable does: on
  // Node 24 V8's default young generation is large enough to hold this churn's garbage, so without
  // --max-semi-space-size the peak is the young generation's and the factor changes nothing measurable.
  it('bounds the heap when set at run time', () => {
    const peak = (factor: string) =>
      Number(
        execFileSync(process.execPath, [...DAEMON_NODE_FLAGS, '--input-type=module', '-e', CHURN, factor], {
          encoding: 'utf8',
        }).trim(),
      );
    const unset = peak('');
    const low = peak('1.2');
    expect(low).toBeLessThan(unset * 0.7);
  }, 60_000);
});

/** Keeps ~40 MB live and churns garbage; prints the largest heap seen (MB). */
const CHURN = `
import { applyDaemonV8Flags } from ${JSON.stringify(resolve('dist/cli/heap-flags.js'))};
const factor = process.argv[1] ? Number(process.argv[1]) : undefined;
applyDaemonV8Flags(factor, []);
const live = [];
for (let i = 0; i < 400000; i++) live.push({ a: 'x' + i, b: i, c: [i] });
let peak = 0;
let junk = [];
for (let r = 0; r < 150; r++) {
  for (let i = 0; i < 20000; i++) junk.push({ a: i, b: [i, i] });
  if (junk.length > 200000) junk = [];
  peak = Math.max(peak, process.memoryUsage().heapTotal);
}
console.log(Math.round(peak / 2 ** 20), live.length > 0 ? '' : '-');
`;

describe('DAEMON_NODE_FLAGS and DAEMON_ENV', () => {
  // V8 reads the flags only at start-up, and glibc the variable only when the process starts, so the
  // executable's `#!` line is what passes them.
  it("are what the executable's #! line starts node with, which this system's env runs", () => {
    const bin = resolve('bin/vmshepherd.js');
    const shebang = readFileSync(bin, 'utf8').split('\n')[0];
    expect(shebang).toBe(daemonShebang());
    expect(shebang).toBe(
      '#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=8 --single-threaded-gc',
    );
    // Run as the executable (not `node bin/...`): the process reports the flags node was started with
    // and the environment it got.
    const report =
      "--import=data:text/javascript,process.on('exit',()=>console.error(JSON.stringify([process.execArgv,process.env.MALLOC_ARENA_MAX])))";
    const { MALLOC_ARENA_MAX: _, ...env } = process.env;
    const run = spawnSync(bin, ['--version'], {
      encoding: 'utf8',
      env: { ...env, NODE_OPTIONS: report },
    });
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stderr.trim())).toEqual([[...DAEMON_NODE_FLAGS], DAEMON_ENV.MALLOC_ARENA_MAX]);
  });
});
