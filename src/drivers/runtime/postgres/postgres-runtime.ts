import { readFileSync } from 'node:fs';
import pg from 'pg';
import type { Logger } from 'pino';
import { isShepherdError, ShepherdError } from '../../../errors/shepherd-error.js';
import type { Lease, RuntimeStore } from '../../types.js';
import { migrate, type PostgresNames, postgresNames } from './migrations.js';
import type { PostgresOptions } from './options.js';
import { PostgresLockStore } from './postgres-locks.js';
import { PostgresTaskStore } from './postgres-tasks.js';

interface LeaseRow {
  token: string;
  expires_ms: number;
  taken_over: boolean;
}

/**
 * Leases and preset states in PostgreSQL. Every lease operation is one atomic statement, and expiry is
 * always computed by the database clock (`now()`), so the clocks of the instances never matter: an
 * instance whose clock runs ahead or behind still sees the same lease as every other one.
 */
export class PostgresRuntime implements RuntimeStore {
  private readonly pool: pg.Pool;
  private readonly names: PostgresNames;
  private ready: Promise<void> | undefined;
  readonly tasks: PostgresTaskStore;
  readonly locks: PostgresLockStore;

  constructor(
    private readonly o: PostgresOptions,
    private readonly owner: string,
    private readonly logger: Logger,
    resolvePath: (p: string) => string = (p) => p,
  ) {
    this.names = postgresNames(o.schema, o.table_prefix);
    this.tasks = new PostgresTaskStore(this.names, (sql, params) => this.query(sql, params));
    this.locks = new PostgresLockStore(this.names, (sql, params) => this.query(sql, params));
    this.pool = new pg.Pool({
      ...(o.url ? { connectionString: o.url } : {}),
      ...(o.host ? { host: o.host } : {}),
      ...(o.port ? { port: o.port } : {}),
      ...(o.database ? { database: o.database } : {}),
      ...(o.user ? { user: o.user } : {}),
      ...(o.password ? { password: o.password } : {}),
      ...(o.ssl === false
        ? {}
        : {
            ssl:
              o.ssl === true
                ? true
                : {
                    rejectUnauthorized: o.ssl.reject_unauthorized,
                    ...(o.ssl.ca ? { ca: readFileSync(resolvePath(o.ssl.ca), 'utf8') } : {}),
                  },
          }),
      max: o.pool_size,
      connectionTimeoutMillis: o.connect_timeout * 1000,
      query_timeout: o.query_timeout * 1000,
      application_name: `vmshepherd ${owner}`.slice(0, 63),
    });
    // An idle connection dropped by a restarting server must not crash the daemon: the next query
    // reconnects, and the failing query itself reports the outage.
    this.pool.on('error', (err) =>
      this.logger.warn({ code: 'postgres_call_2001', err: err.message }, 'idle connection lost'),
    );
    // The pool listens for errors only on idle connections. A checked-out one (the migration's, or one
    // whose query already failed) that loses its server emits 'error' with no listener, and an 'error'
    // event nobody listens to ends the process: seen once in CI when PostgreSQL restarted under load.
    // Its query rejects on its own and reports the outage; this listener only keeps the daemon alive.
    this.pool.on('connect', (client) =>
      client.on('error', (err) =>
        this.logger.debug({ code: 'postgres_call_2001', err: err.message }, 'connection lost'),
      ),
    );
  }

  async acquire(key: string, ttlMs: number): Promise<Lease | null> {
    const { leases, fence } = this.names;
    // One statement: insert the lease, or take the row over only when it is released or expired (by the
    // database clock). Racing acquirers serialise on the row; exactly one sees the WHERE hold.
    const rows = await this.query<LeaseRow>(
      `INSERT INTO ${leases} AS l (key, owner, token, expires_at)
       VALUES ($1, $2, nextval('${fence.replaceAll("'", "''")}'), now() + $3 * interval '1 millisecond')
       ON CONFLICT (key) DO UPDATE
         SET owner = EXCLUDED.owner, token = EXCLUDED.token, expires_at = EXCLUDED.expires_at,
             released = false, taken_over = NOT l.released, updated_at = now()
         WHERE l.released OR l.expires_at <= now()
       RETURNING token, (extract(epoch FROM expires_at) * 1000)::float8 AS expires_ms, taken_over`,
      [key, this.owner, ttlMs],
    );
    const row = rows[0];
    if (!row) return null;
    return {
      key,
      owner: this.owner,
      token: Number(row.token),
      expiresAt: row.expires_ms,
      takenOver: row.taken_over,
    };
  }

  async renew(lease: Lease, ttlMs: number): Promise<Lease | null> {
    const rows = await this.query<{ expires_ms: number }>(
      `UPDATE ${this.names.leases}
         SET expires_at = now() + $3 * interval '1 millisecond', updated_at = now()
       WHERE key = $1 AND token = $2 AND NOT released AND expires_at > now()
       RETURNING (extract(epoch FROM expires_at) * 1000)::float8 AS expires_ms`,
      [lease.key, lease.token, ttlMs],
    );
    const row = rows[0];
    return row ? { ...lease, expiresAt: row.expires_ms } : null;
  }

  async release(lease: Lease): Promise<void> {
    await this.query(
      `UPDATE ${this.names.leases} SET released = true, updated_at = now() WHERE key = $1 AND token = $2`,
      [lease.key, lease.token],
    );
  }

  async load(preset: string): Promise<unknown | null> {
    const rows = await this.query<{ state: unknown }>(
      `SELECT state FROM ${this.names.states} WHERE preset = $1`,
      [preset],
    );
    return rows[0]?.state ?? null;
  }

  async save(preset: string, state: unknown, lease: Lease): Promise<void> {
    const { leases, states } = this.names;
    // The fence is checked by the database in the same statement that writes: the lease row must still
    // carry this token, unreleased and unexpired, and is share-locked so a takeover waits for the write.
    // A state written under a higher token is never overwritten.
    const rows = await this.query(
      `WITH holder AS (
         SELECT 1 FROM ${leases}
         WHERE key = $1 AND token = $2 AND NOT released AND expires_at > now()
         FOR SHARE
       )
       INSERT INTO ${states} AS s (preset, state, token, saved_by)
       SELECT $3, $4::jsonb, $2, $5 FROM holder
       ON CONFLICT (preset) DO UPDATE
         SET state = EXCLUDED.state, token = EXCLUDED.token, saved_by = EXCLUDED.saved_by, saved_at = now()
         WHERE s.token <= EXCLUDED.token
       RETURNING 1`,
      [lease.key, lease.token, preset, JSON.stringify(state), this.owner],
    );
    if (rows.length === 0) {
      throw new ShepherdError('runtime_save_0001', `${preset}: token ${lease.token} is stale`, {
        details: { preset, token: lease.token },
      });
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  /** Creates or migrates the tables once; retried on the next call after a failure (e.g. server down). */
  private init(): Promise<void> {
    this.ready ??= (async () => {
      const client = await this.pool.connect();
      try {
        await migrate(client, this.o.schema, this.names);
      } finally {
        client.release();
      }
    })().catch((err) => {
      this.ready = undefined;
      throw err;
    });
    return this.ready;
  }

  private async query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    sql: string,
    params: unknown[],
  ): Promise<R[]> {
    try {
      await this.init();
      return (await this.pool.query<R>(sql, params)).rows;
    } catch (err) {
      if (isShepherdError(err)) throw err;
      throw new ShepherdError('postgres_call_2001', (err as Error).message, { cause: err });
    }
  }
}
