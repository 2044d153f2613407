import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Lease, LockOwner, LockResult, LockSlot, LockStore } from '../../types.js';
import { staleLock } from '../memory-locks.js';
import type { PostgresNames } from './migrations.js';

type Query = <R extends pg.QueryResultRow = pg.QueryResultRow>(
  sql: string,
  params: unknown[],
) => Promise<R[]>;

interface SlotRow {
  slot: number;
  hold: string;
  owner: LockOwner;
  expires_ms: number;
}

/** A hold's id: its slot row and the holding of that row (`<slot>:<hold>`). */
const idOf = (slot: number, hold: string) => `${slot}:${hold}`;
const parseId = (id: string) => {
  const at = id.indexOf(':');
  return { slot: Number(id.slice(0, at)), hold: id.slice(at + 1) };
};

/**
 * Infrastructure locks as rows, one per slot of a key. A take is one statement: it picks the lowest slot
 * number below `slots` that no unexpired row holds, while fewer than `slots` rows of the key are unexpired,
 * and inserts its row (or takes an expired one over) only if the preset lease is current, share-locking the
 * lease row as `save` does. Two takers of the same free slot conflict on its row: the second sees it held
 * and tries again. Expiry is the database clock's, as for leases.
 */
export class PostgresLockStore implements LockStore {
  constructor(
    private readonly names: PostgresNames,
    private readonly query: Query,
  ) {}

  async acquireLock(
    key: string,
    slots: number,
    owner: LockOwner,
    lease: Lease,
    ttlMs: number,
  ): Promise<LockResult> {
    // Racing takers of one slot serialise on its row and the loser finds no slot: it looks again, a few
    // times at most (each look sees at least one more holder than the last).
    for (let attempt = 0; attempt <= slots; attempt++) {
      const hold = randomUUID();
      const taken = await this.take(key, slots, owner, lease, ttlMs, hold);
      if (taken) return { held: { key, id: idOf(taken.slot, hold), owner, expiresAt: taken.expires_ms } };
      if (!(await this.leaseCurrent(lease))) throw staleLock(lease);
      const busy = await this.listLocks(key);
      if (busy.length >= slots) return { busy };
    }
    return { busy: await this.listLocks(key) };
  }

  async renewLock(slot: LockSlot, lease: Lease, ttlMs: number): Promise<LockSlot | null> {
    const { slot: n, hold } = parseId(slot.id);
    const rows = await this.query<{ expires_ms: number }>(
      `UPDATE ${this.names.locks} SET expires_at = now() + $5 * interval '1 millisecond'
       WHERE key = $1 AND slot = $2 AND hold = $3 AND lease_token = $4 AND expires_at > now()
         AND EXISTS (${this.holderSql('$6', '$4')})
       RETURNING (extract(epoch FROM expires_at) * 1000)::float8 AS expires_ms`,
      [slot.key, n, hold, lease.token, ttlMs, lease.key],
    );
    return rows[0] ? { ...slot, expiresAt: rows[0].expires_ms } : null;
  }

  async releaseLock(slot: LockSlot, lease: Lease): Promise<void> {
    const { slot: n, hold } = parseId(slot.id);
    await this.query(
      `DELETE FROM ${this.names.locks} WHERE key = $1 AND slot = $2 AND hold = $3 AND lease_token = $4`,
      [slot.key, n, hold, lease.token],
    );
  }

  async listLocks(key: string): Promise<LockSlot[]> {
    const rows = await this.query<SlotRow>(
      `SELECT slot, hold, owner, (extract(epoch FROM expires_at) * 1000)::float8 AS expires_ms
       FROM ${this.names.locks} WHERE key = $1 AND expires_at > now() ORDER BY slot`,
      [key],
    );
    return rows.map((r) => ({ key, id: idOf(r.slot, r.hold), owner: r.owner, expiresAt: r.expires_ms }));
  }

  private async take(
    key: string,
    slots: number,
    owner: LockOwner,
    lease: Lease,
    ttlMs: number,
    hold: string,
  ): Promise<{ slot: number; expires_ms: number } | undefined> {
    const { locks } = this.names;
    const rows = await this.query<{ slot: number; expires_ms: number }>(
      `WITH holder AS (${this.holderSql('$5', '$6')} FOR SHARE),
       live AS (SELECT slot FROM ${locks} WHERE key = $1 AND expires_at > now()),
       free AS (
         SELECT s FROM generate_series(0, $2::int - 1) AS s
         WHERE s NOT IN (SELECT slot FROM live) AND (SELECT count(*) FROM live) < $2::int
         ORDER BY s LIMIT 1
       )
       INSERT INTO ${locks} AS l (key, slot, hold, owner, lease_key, lease_token, expires_at)
       SELECT $1, free.s, $3, $4::jsonb, $5, $6, now() + $7 * interval '1 millisecond' FROM free, holder
       ON CONFLICT (key, slot) DO UPDATE
         SET hold = EXCLUDED.hold, owner = EXCLUDED.owner, lease_key = EXCLUDED.lease_key,
             lease_token = EXCLUDED.lease_token, expires_at = EXCLUDED.expires_at
         WHERE l.expires_at <= now()
       RETURNING slot, (extract(epoch FROM expires_at) * 1000)::float8 AS expires_ms`,
      [key, slots, hold, JSON.stringify(owner), lease.key, lease.token, ttlMs],
    );
    return rows[0];
  }

  private async leaseCurrent(lease: Lease): Promise<boolean> {
    return (await this.query(this.holderSql('$1', '$2'), [lease.key, lease.token])).length > 0;
  }

  /** The preset lease row with this key and token, unreleased and unexpired: the fence of every write. */
  private holderSql(key: string, token: string): string {
    return `SELECT 1 FROM ${this.names.leases}
            WHERE key = ${key} AND token = ${token} AND NOT released AND expires_at > now()`;
  }
}
