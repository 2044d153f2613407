import { zodOptions } from '../../../config/zod-issues.js';
import { defineDriver } from '../../types.js';
import { postgresOptionsSchema } from './options.js';
import { PostgresRuntime } from './postgres-runtime.js';

export const postgresDriver = defineDriver({
  kind: 'runtime',
  name: 'PostgresDriver',
  description: 'Leases and preset state in PostgreSQL, shared by several vmshepherd instances',
  ...zodOptions(postgresOptionsSchema),
  create: (o, ctx) => new PostgresRuntime(o, ctx.instanceId, ctx.logger, ctx.resolvePath),
});
