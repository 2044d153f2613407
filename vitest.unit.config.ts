import { defineConfig } from 'vitest/config';

/**
 * The fast loop (`npm run test:unit`): the tests that run in this process against src/, without the
 * globalSetup of vitest.config.ts (no dist/ build, no PostgreSQL, ZooKeeper, git server or browser).
 * `npm test` still runs these together with the rest.
 */
export default defineConfig({
  test: {
    include: [
      'test/unit/**/*.test.ts',
      'test/api/request-gate.test.ts',
      'test/contract/directory-presets.test.ts',
      'test/contract/dummy-iaas.test.ts',
      'test/contract/dummy-remote.test.ts',
      'test/contract/healthchecks.test.ts',
      'test/contract/memory-runtime.test.ts',
      'test/e2e/tracing-otlp.test.ts',
      // Also in-process but left to `npm test`: the other test/api files (a daemon behind its HTTP server)
      // and the e2e files that run the daemon in this process (with them the run took 28-40 s here), and
      // test/api/panel-stream.test.ts (about 8 s of waiting on the stream's intervals).
    ],
    exclude: [
      // Runs bin/vmshepherd.js and imports dist/.
      'test/unit/heap-flags.test.ts',
      // Renders through Python's jinja2, installed on demand.
      'test/unit/jinja-corpus.test.ts',
    ],
    testTimeout: 60_000,
    pool: 'forks',
    // The machine has 2 cores.
    maxWorkers: 2,
    // A worker keeps its imported modules from one file to the next: the run is import-bound, and this
    // roughly halves it. `npm test` keeps isolation, so a test that leaks state still fails there.
    isolate: false,
  },
});
