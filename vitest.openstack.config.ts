import { defineConfig } from 'vitest/config';

/**
 * The end-to-end suite against the OpenStack lab (`npm run test:openstack`; ../shared/openstack-lab/up.sh
 * first). Its files are *.lab.ts so `npm test` never picks them up. They share one project, so they run
 * one at a time.
 */
export default defineConfig({
  test: {
    include: ['test/openstack/**/*.lab.ts'],
    globalSetup: ['test/setup/build.ts', 'test/openstack/setup.ts'],
    testTimeout: 180_000,
    hookTimeout: 180_000,
    pool: 'forks',
    fileParallelism: false,
    maxWorkers: 1,
    ...(process.env.VMSHEPHERD_TEST_REPORT
      ? { reporters: ['default', 'json'], outputFile: { json: process.env.VMSHEPHERD_TEST_REPORT } }
      : {}),
  },
});
