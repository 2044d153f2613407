// Imported by benchmarks that measure the daemon, before any module of their own: runs the benchmark
// again as the `vmshepherd` executable starts node (its node flags, which V8 reads only at start-up, and
// its environment, which glibc reads only when the process starts), unless node's command line and the
// environment already say (either way: they win), so that what is measured is the daemon as it runs.
import { spawnSync } from 'node:child_process';
import { DAEMON_ENV, DAEMON_NODE_FLAGS, flagsToSet } from '../dist/cli/heap-flags.js';

const missing = flagsToSet(process.execArgv, DAEMON_NODE_FLAGS);
const unset = Object.keys(DAEMON_ENV).filter((name) => process.env[name] === undefined);
if (missing.length > 0 || unset.length > 0) {
  const r = spawnSync(process.execPath, [...missing, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...DAEMON_ENV, ...process.env },
  });
  process.exit(r.status ?? 1);
}

/** How node runs this benchmark, for its results: the flags and the environment above. */
export function howNodeRuns() {
  return {
    node_flags: process.execArgv.filter((a) => a !== '--expose-gc'),
    node_env: Object.fromEntries(Object.keys(DAEMON_ENV).map((name) => [name, process.env[name] ?? null])),
  };
}
