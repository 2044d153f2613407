import { defineDriver } from '../../types.js';
import { zodOptions } from '../../zod-options.js';
import { zookeeperOptionsSchema } from './options.js';

export const zookeeperDriver = defineDriver({
  kind: 'runtime',
  name: 'ZookeeperDriver',
  description:
    'Leases (ephemeral lock nodes) and preset state in ZooKeeper, shared by several vmshepherd instances',
  ...zodOptions(zookeeperOptionsSchema),
  // Imported when used (see BUILTIN_DRIVERS).
  create: async (o, ctx) => {
    const { ZookeeperRuntime } = await import('./zookeeper-runtime.js');
    return new ZookeeperRuntime(o, ctx.instanceId, ctx.logger);
  },
});
