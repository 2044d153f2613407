import type { TestProject } from 'vitest/node';
import { findPostgres, type PostgresCluster, startPostgresCluster } from '../helpers/postgres-server.js';
import { startZookeeper, type ZookeeperServer } from '../helpers/zookeeper-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A PostgreSQL database the tests may create schemas in. */
    pgUrl: string;
    /** `host:port` of a ZooKeeper server the tests may create nodes in. */
    zkServers: string;
  }
}

/**
 * Finds PostgreSQL (VMSHEPHERD_TEST_PG_URL, or a local server) or starts a throwaway cluster, and starts a
 * throwaway ZooKeeper (VMSHEPHERD_TEST_ZK overrides), installing Debian packages when missing. A service
 * that cannot be had fails the run with the reason: these tests are never skipped.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let cluster: PostgresCluster | undefined;
  let zk: ZookeeperServer | undefined;
  const found = await findPostgres();
  if (found) project.provide('pgUrl', found);
  else {
    cluster = await startPostgresCluster();
    project.provide('pgUrl', cluster.url);
  }
  if (process.env.VMSHEPHERD_TEST_ZK) project.provide('zkServers', process.env.VMSHEPHERD_TEST_ZK);
  else {
    zk = await startZookeeper();
    project.provide('zkServers', zk.servers);
  }
  return async () => {
    await zk?.destroy();
    cluster?.destroy();
  };
}
