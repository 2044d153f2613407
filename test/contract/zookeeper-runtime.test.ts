import pino from 'pino';
import { inject } from 'vitest';
import { zookeeperOptionsSchema } from '../../src/drivers/runtime/zookeeper/options.js';
import { ZookeeperRuntime } from '../../src/drivers/runtime/zookeeper/zookeeper-runtime.js';
import { runtimeContract } from '../../src/testing/runtime-contract.js';

const workingPath = `/vmshepherd-test/contract-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
const logger = pino({ level: 'silent' });

runtimeContract(
  'ZookeeperDriver',
  async () => {
    const options = zookeeperOptionsSchema.parse({ servers: inject('zkServers'), working_path: workingPath });
    const a = new ZookeeperRuntime(options, 'a', logger);
    const b = new ZookeeperRuntime(options, 'b', logger);
    return { a, b, close: async () => void (await Promise.all([a.close(), b.close()])) };
  },
  { ttlMs: 400 },
);
