import type { Stat, Transaction } from 'node-zookeeper-client';
import type { Logger } from 'pino';
import { ShepherdError } from '../../../errors/shepherd-error.js';
import type { Lease, LeaseGuard, RuntimeStore } from '../../types.js';
import type { ZookeeperOptions } from './options.js';
import { CreateMode, Exception, statTime, ZkConnection, zkCode } from './zk-client.js';
import { zkWrap } from './zk-wrap.js';
import { ZookeeperLockStore } from './zookeeper-locks.js';
import { type ZkTaskAccess, ZookeeperTaskStore } from './zookeeper-tasks.js';

/** What a lock node holds: who, and for how long it counts after its last write (server clock). */
interface LockData {
  owner: string;
  ttlMs: number;
}

/** A lease of ours: its lock node and the version we last wrote, for version-checked renewals. */
interface Held {
  path: string;
  version: number;
}

const LOCK_PREFIX = 'l-';
const seq = (name: string) => Number(name.slice(LOCK_PREFIX.length));

/**
 * Leases and preset states in ZooKeeper. A lease is the standard lock recipe: an ephemeral sequential node
 * under the key's node, held by whoever has the lowest sequence number, so a dead instance's leases vanish
 * with its session. The fencing token is that sequence number (strictly increasing per key). On top of the
 * recipe each lock node counts as expired `ttlMs` after its last write by the server's clock (its mtime),
 * so a live but stuck holder is taken over as with the other stores; the takeover deletes the node with a
 * version check, which fails if the holder renewed in between. A state is written in one multi-op that
 * also checks that the writer's lock node still exists: a stale holder's save is refused by ZooKeeper.
 */
export class ZookeeperRuntime implements RuntimeStore {
  private readonly zk: ZkConnection;
  private readonly held = new Map<string, Held>();
  private readonly stateVersions = new Map<string, number>();
  private readonly parents = new Set<string>();
  readonly tasks: ZookeeperTaskStore;
  readonly locks: ZookeeperLockStore;

  constructor(
    private readonly o: ZookeeperOptions,
    private readonly owner: string,
    logger: Logger,
  ) {
    this.zk = new ZkConnection(o, logger, () => {
      this.held.clear();
      this.stateVersions.clear();
    });
    const access: ZkTaskAccess = {
      zk: this.zk,
      base: o.working_path === '/' ? '' : o.working_path,
      multi: (build) => this.multi(build),
      ensureParent: (path) => this.ensureParent(path),
      forgetParent: (path) => void this.parents.delete(path),
      lockOf: (lease) => this.held.get(heldKey(lease.key, lease.token))?.path,
    };
    this.tasks = new ZookeeperTaskStore(access);
    this.locks = new ZookeeperLockStore(access);
  }

  async acquire(key: string, ttlMs: number): Promise<Lease | null> {
    return this.wrap('acquire', async () => {
      const parent = this.path('leases', key);
      const data = Buffer.from(JSON.stringify({ owner: this.owner, ttlMs } satisfies LockData));
      const mine = await this.createLock(parent, data);
      const name = mine.slice(parent.length + 1);
      let takenOver = false;
      for (let attempt = 0; attempt < 2; attempt++) {
        const children = (await this.children(parent)).sort((x, y) => seq(x) - seq(y));
        const lowest = children[0];
        if (lowest === name) {
          // Sequences start at 0; tokens start at 1 like the other stores' (0 means "no lease").
          const token = seq(name) + 1;
          this.held.set(heldKey(key, token), { path: mine, version: 0 });
          return { key, owner: this.owner, token, expiresAt: Date.now() + ttlMs, takenOver };
        }
        if (attempt > 0 || !lowest || !(await this.removeIfExpired(`${parent}/${lowest}`, mine))) break;
        takenOver = true;
      }
      await this.remove(mine, -1);
      return null;
    });
  }

  async renew(lease: Lease, ttlMs: number): Promise<Lease | null> {
    const held = this.held.get(heldKey(lease.key, lease.token));
    if (!held) return null;
    return this.wrap('renew', async () => {
      const data = Buffer.from(JSON.stringify({ owner: this.owner, ttlMs } satisfies LockData));
      try {
        const stat = await this.zk.call<Stat>('renew', (c, done) =>
          c.setData(held.path, data, held.version, done),
        );
        held.version = stat.version;
        return { ...lease, expiresAt: statTime(stat.mtime) + ttlMs };
      } catch (err) {
        const code = zkCode(err);
        if (code !== Exception.NO_NODE && code !== Exception.BAD_VERSION) throw err;
        this.held.delete(heldKey(lease.key, lease.token));
        if (code === Exception.BAD_VERSION) await this.remove(held.path, -1);
        return null;
      }
    });
  }

  async release(lease: Lease): Promise<void> {
    const held = this.held.get(heldKey(lease.key, lease.token));
    if (!held) return;
    this.held.delete(heldKey(lease.key, lease.token));
    await this.wrap('release', () => this.remove(held.path, -1));
  }

  async load(preset: string): Promise<unknown | null> {
    return this.wrap('load', async () => {
      const read = await this.readState(preset);
      return read ? read.state : null;
    });
  }

  async save(preset: string, state: unknown, lease: Lease): Promise<void> {
    const stale = () =>
      new ShepherdError('runtime_save_0001', `${preset}: token ${lease.token} is stale`, {
        details: { preset, token: lease.token },
      });
    const held = this.held.get(heldKey(lease.key, lease.token));
    if (!held) throw stale();
    const path = this.path('states', preset);
    const data = Buffer.from(JSON.stringify({ token: lease.token, state }));
    await this.wrap('save', async () => {
      for (let attempt = 0; attempt < 3; attempt++) {
        const version = this.stateVersions.get(preset);
        const results = await this.multi((t) => {
          t.check(held.path, -1);
          if (version === undefined) t.create(path, data, this.zk.acls, CreateMode.PERSISTENT);
          else t.setData(path, data, version);
        });
        if (results.ok) {
          this.stateVersions.set(preset, version === undefined ? 0 : version + 1);
          return;
        }
        // The check failed: our lock node is gone (taken over, or our session expired).
        if (results.failedAt === 0) throw stale();
        if (results.code === Exception.NO_NODE) {
          this.parents.delete(this.path('states'));
          await this.ensureParent(this.path('states'));
        }
        // Written by someone else since we read it: never overwrite a state saved under a higher token.
        const current = await this.readState(preset);
        if (current && current.token > lease.token) throw stale();
        if (!current) this.stateVersions.delete(preset);
      }
      throw new ShepherdError('zookeeper_call_2001', `${preset}: state changed under every attempt to save`);
    });
  }

  async close(): Promise<void> {
    this.zk.close();
  }

  /** A lease lasts no longer than the session holding its ephemeral node (see ZkConnection). */
  leaseGuard(): LeaseGuard {
    return this.zk.guard();
  }

  // -------------------------------------------------------------------------------------------------

  private path(kind: 'leases' | 'states', key?: string): string {
    const base = this.o.working_path === '/' ? '' : this.o.working_path;
    return key === undefined ? `${base}/${kind}` : `${base}/${kind}/${encodeURIComponent(key)}`;
  }

  private async createLock(parent: string, data: Buffer): Promise<string> {
    const create = () =>
      this.zk.call<string>('create lock', (c, done) =>
        c.create(`${parent}/${LOCK_PREFIX}`, data, this.zk.acls, CreateMode.EPHEMERAL_SEQUENTIAL, done),
      );
    try {
      return await create();
    } catch (err) {
      if (zkCode(err) !== Exception.NO_NODE) throw err;
      // Missing although we created it once: the tree was lost (a server restored without its data).
      this.parents.delete(parent);
      await this.ensureParent(parent);
      return create();
    }
  }

  /**
   * Deletes another holder's lock node when its TTL ran out by the server's clock: `now` is the mtime of
   * the node we just created. The delete carries the version read, so a renewal in between wins.
   */
  private async removeIfExpired(path: string, mine: string): Promise<boolean> {
    try {
      const [data, stat] = await this.zk.call<[Buffer, Stat]>('read lock', (c, done) =>
        c.getData(path, (err, d, s) => done(err, [d, s])),
      );
      const now = statTime(
        (await this.zk.call<Stat>('read own lock', (c, done) => c.exists(mine, done))).mtime,
      );
      const { ttlMs } = JSON.parse(data.toString()) as LockData;
      if (statTime(stat.mtime) + ttlMs > now) return false;
      await this.zk.call<void>('take over lock', (c, done) => c.remove(path, stat.version, done));
      return true;
    } catch (err) {
      // Gone already (released meanwhile) counts as free; renewed meanwhile as held.
      const code = zkCode(err);
      if (code === Exception.NO_NODE) return true;
      if (code === Exception.BAD_VERSION) return false;
      throw err;
    }
  }

  private async children(path: string): Promise<string[]> {
    return this.zk.call<string[]>('list locks', (c, done) => c.getChildren(path, done));
  }

  private async remove(path: string, version: number): Promise<void> {
    try {
      await this.zk.call<void>('remove', (c, done) => c.remove(path, version, done));
    } catch (err) {
      if (zkCode(err) !== Exception.NO_NODE) throw err;
    }
  }

  private async ensureParent(path: string): Promise<void> {
    if (this.parents.has(path)) return;
    await this.zk.call<string>('create path', (c, done) =>
      c.mkdirp(path, this.zk.acls, CreateMode.PERSISTENT, done),
    );
    this.parents.add(path);
  }

  private async readState(preset: string): Promise<{ token: number; state: unknown } | null> {
    try {
      const [data, stat] = await this.zk.call<[Buffer, Stat]>('read state', (c, done) =>
        c.getData(this.path('states', preset), (err, d, s) => done(err, [d, s])),
      );
      this.stateVersions.set(preset, stat.version);
      return JSON.parse(data.toString()) as { token: number; state: unknown };
    } catch (err) {
      if (zkCode(err) !== Exception.NO_NODE) throw err;
      this.stateVersions.delete(preset);
      return null;
    }
  }

  /** Commits a multi-op; on failure says which op failed first and with what code. */
  private async multi(
    build: (t: Transaction) => void,
  ): Promise<{ ok: true } | { ok: false; failedAt: number; code: number }> {
    const [err, results] = await this.zk.call<[unknown, { err?: number }[] | undefined]>(
      'multi',
      (c, done) => {
        const t = c.transaction();
        build(t);
        // A lost connection is no answer about the ops: fail the call as any other request would.
        t.commit((e, r) => (isConnectionLoss(e) ? done(e) : done(null, [e, r])));
      },
    );
    if (!err) return { ok: true };
    const code = zkCode(err);
    if (code === undefined) throw err;
    const failedAt = (results ?? []).findIndex((r) => r.err !== undefined && r.err !== Exception.OK);
    return { ok: false, failedAt, code };
  }

  private wrap<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return zkWrap(what, fn);
  }
}

const heldKey = (key: string, token: number) => `${key}#${token}`;

const isConnectionLoss = (err: unknown) => {
  const code = zkCode(err);
  return code === Exception.CONNECTION_LOSS || code === Exception.SESSION_EXPIRED;
};
