import { setFlagsFromString } from 'node:v8';

/**
 * V8 flags `vmshepherd run` sets for itself. `--compact-on-every-full-gc`: every steady cycle brings a
 * fresh account listing (100,000 VMs at 10,000 presets) that dies once its presets are managed, while
 * what the daemon keeps (states, snapshots, health) is promoted in between; without compaction the
 * survivors stay spread over the old generation's pages and V8 keeps all of those pages.
 * `--no-allocation-site-pretenuring`: when many objects of one allocation site survive a scavenge (the
 * manages waiting for the cycle's listing, the pool's queued tasks), V8 starts allocating that site's
 * objects straight in the old generation, and keeps doing so for the manages after, whose objects die
 * within a millisecond: it doubled what each cycle left in the old generation (31 → 15 MB at 20,000
 * VMs), and with it the full collections. Measured in bench/README.md ("Core"): the resident memory at
 * 100,000 VMs, and the steady cycle's wall and CPU time with the flags. The benchmarks set the same
 * flags (bench/scenario.js). Not `--no-incremental-marking`, though it lowered the peaks at 100,000 VMs:
 * without it V8 has no limit for the old generation until its first full collection (4 GB on a large
 * machine), and set after one, it collected no more at all in a test.
 */
export const DAEMON_V8_FLAGS = ['--compact-on-every-full-gc', '--no-allocation-site-pretenuring'] as const;

/**
 * Flags node must be started with, because V8 reads them only when it starts: the `vmshepherd`
 * executable's `#!` line passes them (a test keeps the two equal), as does `npm start`, which runs it.
 * `--max-semi-space-size=8` (MB; V8's default is 16 on 64-bit): the young generation counts twice in the
 * resident memory, once for itself and once in the old generation's limit, which V8 raises by the young
 * generation's size (median at 100,000 VMs 294-312 → 275-287 MB; 4 or 2 gain nothing more and cost more
 * CPU). `--single-threaded-gc`: V8's helper threads returned the pages a full collection had freed only
 * some time after it, so that for moments the old pages and the compacted heap were both resident (peaks
 * of 380-450 MB at 100,000 VMs); on the main thread they are returned before the pause ends, for no more
 * CPU per cycle. V8 cannot switch it while running (setting it then crashes V8). Measured in
 * bench/README.md ("Core"). `node bin/vmshepherd.js` skips the `#!` line and runs with V8's defaults.
 */
export const DAEMON_NODE_FLAGS = ['--max-semi-space-size=8', '--single-threaded-gc'] as const;

/**
 * Environment the executable starts node with (its `#!` line too). `MALLOC_ARENA_MAX=2`: glibc's
 * allocator gives threads that allocate arenas of their own (up to 8 per core), and what is freed there
 * mostly stays resident; two arenas keep about 20 MB less resident at 100,000 VMs for no measurable time
 * (bench/README.md, "Core"). C libraries other than glibc ignore it.
 */
export const DAEMON_ENV = { MALLOC_ARENA_MAX: '2' } as const;

/** The executable's `#!` line: env starts node with DAEMON_ENV and DAEMON_NODE_FLAGS. */
export function daemonShebang(): string {
  const env = Object.entries(DAEMON_ENV).map(([name, value]) => `${name}=${value}`);
  return `#!/usr/bin/env -S ${[...env, 'node', ...DAEMON_NODE_FLAGS].join(' ')}`;
}

/** The daemon's flags that node's own command line does not already set (either way: it wins). */
export function flagsToSet(
  execArgv: readonly string[],
  flags: readonly string[] = DAEMON_V8_FLAGS,
): string[] {
  const name = (flag: string) =>
    flag
      .replace(/^--(no-)?/, '')
      .replace(/=.*$/, '')
      .replace(/_/g, '-');
  return flags.filter((flag) => !execArgv.some((a) => name(a) === name(flag)));
}

/**
 * Sets the daemon's flags and `manage.heap_growth`, except what node's command line sets. Called again
 * after a reload: setting the same flags twice is harmless.
 */
export function applyDaemonV8Flags(
  heapGrowth: number | undefined,
  execArgv: readonly string[] = process.execArgv,
): void {
  for (const flag of flagsToSet(execArgv, [...DAEMON_V8_FLAGS, heapGrowthFlag(heapGrowth)]))
    setFlagsFromString(flag);
}

/**
 * `manage.heap_growth` as V8's flag. V8 collects the old generation once it has grown to a multiple of
 * what survived the last collection, up to 4× (bench/README.md: at 100,000 VMs that is what makes the
 * resident memory swing to ~900 MB while cycling). Unlike a heap limit, this flag takes effect when set
 * at run time (so the config file can set it; NODE_OPTIONS refuses it) and never limits the heap, so a
 * fleet that grows cannot outgrow it. The key defaults to 1.3: with the flags above, at 100,000 VMs, peaks
 * while cycling of 281-285 MB (cloud in process; 295-303 MB with the simulator apart) against 315 MB at
 * 1.5, for 0.83 s of CPU per cycle against 0.51 s, and about half the resident memory V8's own choice
 * left (bench/README.md, "Core"). 0 (or no factor) hands the choice back to V8, also on a reload.
 */
export function heapGrowthFlag(factor: number | undefined): string {
  return `--heap-growing-percent=${!factor ? 0 : Math.round((factor - 1) * 100)}`;
}
