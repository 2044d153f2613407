import { defineConfig } from 'vitest/config';

/**
 * The fault suite (`npm run test:fault`): per runtime store, two daemons through partitions, a store
 * restart, kill -9 and clock steps, each checked for the figures CI prints. Its files are *.fault.ts so
 * `npm test` does not run them (they take minutes); the two stores run side by side.
 */
export default defineConfig({
  test: {
    include: ['test/fault/**/*.fault.ts'],
    globalSetup: ['test/setup/build.ts'],
    testTimeout: 360_000,
    hookTimeout: 180_000,
    pool: 'forks',
    maxWorkers: 2,
    ...(process.env.VMSHEPHERD_TEST_REPORT
      ? { reporters: ['default', 'json'], outputFile: { json: process.env.VMSHEPHERD_TEST_REPORT } }
      : {}),
  },
});
