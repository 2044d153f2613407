import pg from 'pg';
import pino from 'pino';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { MIGRATIONS } from '../../src/drivers/runtime/postgres/migrations.js';
import { postgresOptionsSchema } from '../../src/drivers/runtime/postgres/options.js';
import { PostgresRuntime } from '../../src/drivers/runtime/postgres/postgres-runtime.js';
import { freePort } from '../helpers/ports.js';

const logger = pino({ level: 'silent' });
const schemas: string[] = [];
const newSchema = () => {
  const s = `t_pg_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  schemas.push(s);
  return s;
};
const store = (schema: string, owner = 'a', extra: Record<string, unknown> = {}) =>
  new PostgresRuntime(postgresOptionsSchema.parse({ url: inject('pgUrl'), schema, ...extra }), owner, logger);

async function sql<R extends pg.QueryResultRow>(text: string, params: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: inject('pgUrl') });
  await client.connect();
  try {
    return (await client.query<R>(text, params)).rows;
  } finally {
    await client.end();
  }
}

afterAll(async () => {
  for (const s of schemas) await sql(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
});

describe('PostgresDriver', () => {
  it('migrates once when several instances start at the same moment', async () => {
    const schema = newSchema();
    const stores = Array.from({ length: 6 }, (_, i) => store(schema, `i${i}`));
    await Promise.all(stores.map((s) => s.load('x')));
    const rows = await sql<{ version: number }>(
      `SELECT version FROM "${schema}".vmshepherd_migrations ORDER BY 1`,
    );
    expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
    await Promise.all(stores.map((s) => s.close()));
  });

  it("leaves the original's preset_states table and its rows untouched, in the same schema", async () => {
    const schema = newSchema();
    await sql(`CREATE SCHEMA "${schema}"`);
    // The original's table: a boolean lock without owner or expiry, pickled data, naive timestamps.
    await sql(
      `CREATE TABLE "${schema}".preset_states (preset_name varchar PRIMARY KEY, locked boolean, data bytea, last_managed timestamp)`,
    );
    await sql(
      `INSERT INTO "${schema}".preset_states VALUES ('web', true, '\\x80049500'::bytea, '2020-01-01 10:00')`,
    );
    const before = await sql(`SELECT * FROM "${schema}".preset_states`);
    const s = store(schema);
    const lease = (await s.acquire('preset/web', 60_000))!;
    expect(lease).not.toBeNull();
    await s.save('web', { version: 1 }, lease);
    expect(await s.load('web')).toEqual({ version: 1 });
    expect(await sql(`SELECT * FROM "${schema}".preset_states`)).toEqual(before);
    const tables = await sql<{ tablename: string }>(
      'SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY 1',
      [schema],
    );
    expect(tables.map((t) => t.tablename)).toEqual([
      'preset_states',
      'vmshepherd_leases',
      'vmshepherd_locks',
      'vmshepherd_migrations',
      'vmshepherd_states',
      'vmshepherd_tasks',
    ]);
    await s.close();
  });

  it('refuses tables migrated by a newer vmshepherd', async () => {
    const schema = newSchema();
    const s = store(schema);
    await s.load('x');
    await sql(`INSERT INTO "${schema}".vmshepherd_migrations (version) VALUES (999)`);
    const again = store(schema);
    await expect(again.load('x')).rejects.toMatchObject({ code: 'postgres_migrate_1001' });
    await Promise.all([s.close(), again.close()]);
  });

  it('keeps leases by the database clock: expiry is now() + ttl on the server', async () => {
    const s = store(newSchema());
    const lease = (await s.acquire('k', 30_000))!;
    const [{ now }] = (await sql<{ now: number }>(
      'SELECT (extract(epoch FROM now()) * 1000)::float8 AS now',
    )) as [{ now: number }];
    expect(Math.abs(lease.expiresAt - (now + 30_000))).toBeLessThan(5_000);
    await s.close();
  });

  // The pool listens only on idle connections; one checked out (as the migration's is) that loses its
  // server emitted 'error' to nobody, which ends the process (vitest reports it as an unhandled error).
  it('survives losing a connection it has checked out, and works on with a new one', async () => {
    const s = store(newSchema(), `lost-${process.pid}`);
    await s.load('x');
    const pool = (s as unknown as { pool: pg.Pool }).pool;
    const client = await pool.connect();
    const [{ pid }] = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows as [
      { pid: number },
    ];
    const ended = new Promise((done) => client.once('end', done));
    await sql('SELECT pg_terminate_backend($1)', [pid]);
    await ended;
    client.release(true);
    expect(await s.load('x')).toBeNull();
    await s.close();
  });

  it('reports an unreachable server with its code, never the password', async () => {
    const port = await freePort();
    const s = new PostgresRuntime(
      postgresOptionsSchema.parse({ url: `postgres://u:sekret-pw@127.0.0.1:${port}/db`, connect_timeout: 1 }),
      'a',
      logger,
    );
    const err = await s.acquire('k', 1000).catch((e: Error & { code?: string }) => e);
    expect(err).toMatchObject({ code: 'postgres_call_2001' });
    expect(String((err as Error).message)).not.toContain('sekret-pw');
    await s.close();
  });
});
