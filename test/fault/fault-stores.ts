import { startPostgresCluster } from '../helpers/postgres-server.js';
import { startZookeeper } from '../helpers/zookeeper-server.js';
import { type FaultStore, ZK_SESSION_S } from './fault-fleet.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A throwaway PostgreSQL cluster (the machine's shared server is never restarted by a test). */
export async function postgresStore(): Promise<FaultStore> {
  const c = await startPostgresCluster();
  return {
    name: 'PostgresDriver',
    address: `127.0.0.1:${c.port}`,
    block: (address) =>
      `  driver: PostgresDriver\n  url: postgres://postgres@${address}/test\n  pool_size: 4\n  connect_timeout: 2\n  query_timeout: 3`,
    restart: async (downMs) => {
      c.stop();
      await sleep(downMs);
      c.start();
    },
    destroy: async () => c.destroy(),
  };
}

/** A throwaway ZooKeeper; the lease lives as long as the session (session_timeout shorter than manage_expire). */
export async function zookeeperStore(): Promise<FaultStore> {
  const zk = await startZookeeper();
  return {
    name: 'ZookeeperDriver',
    address: zk.servers,
    block: (address) =>
      `  driver: ZookeeperDriver\n  servers: ${address}\n  working_path: /fault\n  session_timeout: ${ZK_SESSION_S}`,
    restart: async (downMs) => {
      await zk.stop();
      await sleep(downMs);
      await zk.start();
    },
    destroy: () => zk.destroy(),
  };
}
