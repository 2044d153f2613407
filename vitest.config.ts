import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/build.ts', 'test/setup/services.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: 'forks',
    // The machine has 2 cores; e2e tests run processes and timers of their own.
    maxWorkers: 2,
    // CI asks for a JSON report to count passed and failed tests (.ci/run).
    ...(process.env.VMSHEPHERD_TEST_REPORT
      ? { reporters: ['default', 'json'], outputFile: { json: process.env.VMSHEPHERD_TEST_REPORT } }
      : {}),
  },
});
