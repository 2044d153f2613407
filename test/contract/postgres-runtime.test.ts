import pg from 'pg';
import pino from 'pino';
import { afterAll, inject } from 'vitest';
import { postgresOptionsSchema } from '../../src/drivers/runtime/postgres/options.js';
import { PostgresRuntime } from '../../src/drivers/runtime/postgres/postgres-runtime.js';
import { runtimeContract } from '../../src/testing/runtime-contract.js';

/** A schema of its own per test file run, so parallel runs on one database never see each other's rows. */
export const testSchema = (what: string) =>
  `t_${what}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;

const schema = testSchema('contract');
const logger = pino({ level: 'silent' });

runtimeContract(
  'PostgresDriver',
  async () => {
    const options = postgresOptionsSchema.parse({ url: inject('pgUrl'), schema, pool_size: 4 });
    const a = new PostgresRuntime(options, 'a', logger);
    const b = new PostgresRuntime(options, 'b', logger);
    return { a, b, close: async () => void (await Promise.all([a.close(), b.close()])) };
  },
  { ttlMs: 400 },
);

afterAll(async () => {
  const client = new pg.Client({ connectionString: inject('pgUrl') });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
});
