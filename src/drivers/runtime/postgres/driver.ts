import { defineDriver } from '../../types.js';
import { zodOptions } from '../../zod-options.js';
import { postgresOptionsSchema } from './options.js';

export const postgresDriver = defineDriver({
  kind: 'runtime',
  name: 'PostgresDriver',
  description: 'Leases and preset state in PostgreSQL, shared by several vmshepherd instances',
  ...zodOptions(postgresOptionsSchema),
  // Imported when used (see BUILTIN_DRIVERS).
  create: async (o, ctx) => {
    const { PostgresRuntime } = await import('./postgres-runtime.js');
    return new PostgresRuntime(o, ctx.instanceId, ctx.logger, ctx.resolvePath);
  },
});
