import { setFlagsFromString } from 'node:v8';

/**
 * V8 flags `vmshepherd run` sets for itself. `--compact-on-every-full-gc`: every steady cycle brings a
 * fresh account listing (100,000 VMs at 10,000 presets) that dies once its presets are managed, while
 * what the daemon keeps (states, snapshots, health) is promoted in between; without compaction the
 * survivors stay spread over the old generation's pages and V8 keeps all of those pages. Measured in
 * bench/README.md ("Core"): the resident memory at 100,000 VMs, and the steady cycle's wall and CPU time
 * with the flag. The benchmarks set the same flags (bench/scenario.js).
 */
export const DAEMON_V8_FLAGS = ['--compact-on-every-full-gc'] as const;

/** The daemon's flags that node's own command line does not already set (either way: it wins). */
export function flagsToSet(execArgv: readonly string[]): string[] {
  const name = (flag: string) => flag.replace(/^--(no-)?/, '').replace(/_/g, '-');
  return DAEMON_V8_FLAGS.filter((flag) => !execArgv.some((a) => name(a) === name(flag)));
}

export function applyDaemonV8Flags(execArgv: readonly string[] = process.execArgv): void {
  for (const flag of flagsToSet(execArgv)) setFlagsFromString(flag);
}
