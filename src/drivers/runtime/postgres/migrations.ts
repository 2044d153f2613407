import type { PoolClient } from 'pg';
import { ShepherdError } from '../../../errors/shepherd-error.js';

/** Names of the objects of one schema + prefix, already quoted for SQL. */
export interface PostgresNames {
  schema: string;
  leases: string;
  states: string;
  fence: string;
  migrations: string;
  tasks: string;
  locks: string;
}

export function postgresNames(schema: string, prefix: string): PostgresNames {
  const q = (name: string) => `"${schema}"."${prefix}${name}"`;
  return {
    schema: `"${schema}"`,
    leases: q('leases'),
    states: q('states'),
    fence: q('fence'),
    migrations: q('migrations'),
    tasks: q('tasks'),
    locks: q('locks'),
  };
}

/**
 * Versioned migrations, applied in order and recorded in the migrations table. Never edit one that has
 * shipped: add the next version. Our own prefix keeps them away from the original's `preset_states`.
 */
export const MIGRATIONS: readonly { version: number; sql: (n: PostgresNames) => string }[] = [
  {
    version: 1,
    sql: (n) => `
      CREATE SEQUENCE ${n.fence};
      CREATE TABLE ${n.leases} (
        key        text PRIMARY KEY,
        owner      text NOT NULL,
        token      bigint NOT NULL,
        expires_at timestamptz NOT NULL,
        released   boolean NOT NULL DEFAULT false,
        taken_over boolean NOT NULL DEFAULT false,
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE ${n.states} (
        preset   text PRIMARY KEY,
        state    jsonb NOT NULL,
        token    bigint NOT NULL,
        saved_by text NOT NULL,
        saved_at timestamptz NOT NULL DEFAULT now()
      );`,
  },
  {
    // Task records (docs/tasks.md): the record is the JSON every instance shows; the columns beside it are
    // what the statements select, order and compare on. `seq` orders submissions.
    version: 2,
    sql: (n) => `
      CREATE TABLE ${n.tasks} (
        id              text PRIMARY KEY,
        seq             bigint GENERATED ALWAYS AS IDENTITY,
        preset          text NOT NULL,
        state           text NOT NULL,
        idempotency_key text UNIQUE,
        revision        integer NOT NULL DEFAULT 0,
        record          jsonb NOT NULL,
        finished_at     timestamptz
      );
      CREATE INDEX ON ${n.tasks} (seq);
      CREATE INDEX ON ${n.tasks} (preset, seq);
      CREATE INDEX ON ${n.tasks} (seq) WHERE state IN ('queued', 'running');
      CREATE INDEX ON ${n.tasks} (finished_at) WHERE finished_at IS NOT NULL;`,
  },
  {
    // Infrastructure locks (docs/locks.md): one row per slot of a key, numbered from 0, so that two
    // instances taking the last free slot at once conflict on its row. `hold` names one holding of the
    // slot; `lease_key` and `lease_token` are the preset lease it was taken under (the fence).
    version: 3,
    sql: (n) => `
      CREATE TABLE ${n.locks} (
        key         text NOT NULL,
        slot        integer NOT NULL,
        hold        text NOT NULL,
        owner       jsonb NOT NULL,
        lease_key   text NOT NULL,
        lease_token bigint NOT NULL,
        expires_at  timestamptz NOT NULL,
        PRIMARY KEY (key, slot)
      );`,
  },
];

/**
 * Brings the schema to the latest version. Several instances starting at once serialise on a transaction
 * advisory lock named after the schema and prefix, so each migration runs exactly once; the lock is freed
 * with the transaction even when the process dies.
 */
export async function migrate(client: PoolClient, schema: string, names: PostgresNames): Promise<number> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`vmshepherd:${names.migrations}`]);
    // Tests and operators share one database across schemas: a schema created by a racing instance is fine.
    const exists = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    if (exists.rowCount === 0) await client.query(`CREATE SCHEMA IF NOT EXISTS ${names.schema}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${names.migrations} (version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const applied = await client.query<{ v: number | null }>(
      `SELECT max(version) AS v FROM ${names.migrations}`,
    );
    const current = applied.rows[0]?.v ?? 0;
    const latest = MIGRATIONS.at(-1)?.version ?? 0;
    if (current > latest) {
      throw new ShepherdError(
        'postgres_migrate_1001',
        `tables at version ${current}, this vmshepherd knows ${latest}`,
      );
    }
    for (const m of MIGRATIONS) {
      if (m.version <= current) continue;
      await client.query(m.sql(names));
      await client.query(`INSERT INTO ${names.migrations} (version) VALUES ($1)`, [m.version]);
    }
    await client.query('COMMIT');
    return latest;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  }
}
