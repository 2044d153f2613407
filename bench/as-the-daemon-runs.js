// Imported first by benchmarks that measure the daemon: runs the benchmark again with the node flags the
// `vmshepherd` executable starts with (V8 reads them only at start-up), unless node's command line has
// them, so that what is measured is the daemon as it runs.
import { spawnSync } from 'node:child_process';
import { DAEMON_NODE_FLAGS, flagsToSet } from '../dist/cli/heap-flags.js';

const missing = flagsToSet(process.execArgv, DAEMON_NODE_FLAGS);
if (missing.length > 0) {
  const r = spawnSync(process.execPath, [...missing, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
  });
  process.exit(r.status ?? 1);
}
