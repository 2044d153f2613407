import { setFlagsFromString } from 'node:v8';

/**
 * V8 flags `vmshepherd run` sets for itself. `--compact-on-every-full-gc`: each cycle's listing dies while
 * what the daemon keeps is promoted in between; uncompacted, the survivors keep every old-space page.
 * `--no-allocation-site-pretenuring`: the manages waiting at a cycle's start made V8 allocate their sites'
 * short-lived objects straight in the old generation for the rest of the cycle. The benchmarks set them too
 * (bench/scenario.js); measurements in docs/performance.md ("V8 flags and the allocator").
 */
export const DAEMON_V8_FLAGS = ['--compact-on-every-full-gc', '--no-allocation-site-pretenuring'] as const;

/**
 * Flags node must be started with, because V8 reads them only when it starts: the `vmshepherd`
 * executable's `#!` line passes them (a test keeps the two equal), as does `npm start`, which runs it.
 * `--max-semi-space-size=8` (MB): the young generation counts twice, once itself and once in the old
 * generation's limit. `--single-threaded-gc`: pages a full collection freed are returned before its pause
 * ends, not later by helper threads (V8 crashes if it is set while running). Measurements in
 * docs/performance.md. `node bin/vmshepherd.js` skips the `#!` line and runs with V8's defaults.
 */
export const DAEMON_NODE_FLAGS = ['--max-semi-space-size=8', '--single-threaded-gc'] as const;

/**
 * Environment the executable starts node with (its `#!` line too). `MALLOC_ARENA_MAX=2`: what glibc's
 * per-thread arenas free mostly stays resident, so fewer arenas keep less resident (docs/performance.md).
 * C libraries other than glibc ignore it.
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
 * `manage.heap_growth` as V8's flag: the old generation is collected once it has grown to this factor
 * times what the last collection kept (V8's own choice goes up to 4×). Unlike a heap limit it takes
 * effect when set at run time (NODE_OPTIONS refuses it) and never limits the heap. 0 (or no factor) hands
 * the choice back to V8, also on a reload. The trade of memory for CPU: docs/performance.md.
 */
export function heapGrowthFlag(factor: number | undefined): string {
  return `--heap-growing-percent=${!factor ? 0 : Math.round((factor - 1) * 100)}`;
}
