import { zodOptions } from '../../../config/zod-issues.js';
import { defineDriver } from '../../types.js';
import { zookeeperOptionsSchema } from './options.js';
import { ZookeeperRuntime } from './zookeeper-runtime.js';

export const zookeeperDriver = defineDriver({
  kind: 'runtime',
  name: 'ZookeeperDriver',
  description:
    'Leases (ephemeral lock nodes) and preset state in ZooKeeper, shared by several vmshepherd instances',
  ...zodOptions(zookeeperOptionsSchema),
  create: (o, ctx) => new ZookeeperRuntime(o, ctx.instanceId, ctx.logger),
});
