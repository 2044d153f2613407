import type { Stat } from 'node-zookeeper-client';
import type { Lease, LockOwner, LockResult, LockSlot, LockStore } from '../../types.js';
import { staleLock } from '../memory-locks.js';
import { CreateMode, Exception, statTime, zkCode } from './zk-client.js';
import { zkWrap } from './zk-wrap.js';
import type { ZkTaskAccess } from './zookeeper-tasks.js';

/** What a slot node holds: who, the preset lease it was taken under, and how long it counts. */
interface SlotData {
  owner: LockOwner;
  lease: string;
  token: number;
  ttlMs: number;
}

const SLOT_PREFIX = 's-';
const seq = (name: string) => Number(name.slice(SLOT_PREFIX.length));

/**
 * Infrastructure locks as the semaphore recipe: a taker creates an ephemeral sequential node under the
 * key's node, in one multi-op with a check of its preset lease's lock node (the fence), and holds a slot
 * when fewer than `slots` unexpired nodes have a lower sequence; otherwise it deletes its node and reports
 * the holders. Every holder sees all holders below it, so no more than `slots` hold at once. As for leases,
 * a node counts as expired `ttlMs` after its last write by the server's clock (compared with the mtime of
 * the taker's own new node) and is then deleted with the version read, so a renewal in between wins; a
 * dead instance's nodes go with its session. A hold's id is its node's path: nobody else ever has it.
 */
export class ZookeeperLockStore implements LockStore {
  /** Versions of our own slot nodes, for version-checked renewals. */
  private readonly versions = new Map<string, number>();

  constructor(private readonly a: ZkTaskAccess) {}

  async acquireLock(
    key: string,
    slots: number,
    owner: LockOwner,
    lease: Lease,
    ttlMs: number,
  ): Promise<LockResult> {
    const fence = this.a.lockOf(lease);
    if (!fence) throw staleLock(lease);
    return zkWrap('acquire lock', async () => {
      const parent = this.parent(key);
      const data: SlotData = { owner, lease: lease.key, token: lease.token, ttlMs };
      const mine = await this.create(parent, fence, data, lease);
      const name = mine.slice(parent.length + 1);
      const now = statTime((await this.stat(mine)).mtime);
      const below = (await this.children(parent)).filter((c) => seq(c) < seq(name));
      const live: LockSlot[] = [];
      for (const child of below.sort((x, y) => seq(x) - seq(y))) {
        const slot = await this.readLive(key, `${parent}/${child}`, now);
        if (slot) live.push(slot);
      }
      if (live.length < slots) {
        this.versions.set(mine, 0);
        return { held: { key, id: mine, owner, expiresAt: now + ttlMs } };
      }
      await this.remove(mine, -1);
      return { busy: live };
    });
  }

  async renewLock(slot: LockSlot, lease: Lease, ttlMs: number): Promise<LockSlot | null> {
    const version = this.versions.get(slot.id);
    const fence = this.a.lockOf(lease);
    if (version === undefined || !fence) return null;
    const data: SlotData = { owner: slot.owner, lease: lease.key, token: lease.token, ttlMs };
    return zkWrap('renew lock', async () => {
      try {
        const stat = await this.a.zk.call<Stat>('renew lock', (c, done) =>
          c.setData(slot.id, Buffer.from(JSON.stringify(data)), version, done),
        );
        this.versions.set(slot.id, stat.version);
        return { ...slot, expiresAt: statTime(stat.mtime) + ttlMs };
      } catch (err) {
        const code = zkCode(err);
        if (code !== Exception.NO_NODE && code !== Exception.BAD_VERSION) throw err;
        this.versions.delete(slot.id);
        return null;
      }
    });
  }

  async releaseLock(slot: LockSlot): Promise<void> {
    // Only a node this instance created is ever removed: its path is the hold's id.
    if (!this.versions.has(slot.id)) return;
    this.versions.delete(slot.id);
    await zkWrap('release lock', () => this.remove(slot.id, -1));
  }

  async listLocks(key: string): Promise<LockSlot[]> {
    return zkWrap('list locks', async () => {
      const parent = this.parent(key);
      const children = await this.children(parent);
      const out: LockSlot[] = [];
      for (const child of children.sort((x, y) => seq(x) - seq(y))) {
        const slot = await this.readLive(key, `${parent}/${child}`, undefined);
        if (slot) out.push(slot);
      }
      return out;
    });
  }

  // -------------------------------------------------------------------------------------------------

  private parent(key: string): string {
    return `${this.a.base}/locks/${encodeURIComponent(key)}`;
  }

  /** Creates our slot node in one multi-op with the check of the preset lease's lock node. */
  private async create(parent: string, fence: string, data: SlotData, lease: Lease): Promise<string> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const [err, results] = await this.a.zk.call<[unknown, { path?: string }[] | undefined]>(
        'create slot',
        (c, done) => {
          const t = c.transaction();
          t.check(fence, -1);
          t.create(
            `${parent}/${SLOT_PREFIX}`,
            Buffer.from(JSON.stringify(data)),
            this.a.zk.acls,
            CreateMode.EPHEMERAL_SEQUENTIAL,
          );
          t.commit((e, r) => (isLoss(e) ? done(e) : done(null, [e, r])));
        },
      );
      const path = results?.[1]?.path;
      if (!err && path) return path;
      if (zkCode(err) !== Exception.NO_NODE) throw err;
      // The check failed (our lease node is gone) or the key's node does not exist yet.
      if (!(await this.exists(fence))) throw staleLock(lease);
      this.a.forgetParent(parent);
      await this.a.ensureParent(parent);
    }
    throw staleLock(lease);
  }

  /** The slot of a node, or null when it is gone or expired (then deleted, unless renewed meanwhile). */
  private async readLive(key: string, path: string, now: number | undefined): Promise<LockSlot | null> {
    try {
      const [buf, stat] = await this.a.zk.call<[Buffer, Stat]>('read slot', (c, done) =>
        c.getData(path, (err, d, s) => done(err, [d, s])),
      );
      const data = JSON.parse(buf.toString()) as SlotData;
      const expiresAt = statTime(stat.mtime) + data.ttlMs;
      if (now !== undefined && expiresAt <= now) {
        await this.remove(path, stat.version).catch((err) => {
          if (zkCode(err) !== Exception.BAD_VERSION) throw err;
        });
        return null;
      }
      return { key, id: path, owner: data.owner, expiresAt };
    } catch (err) {
      if (zkCode(err) === Exception.NO_NODE) return null;
      throw err;
    }
  }

  private async stat(path: string): Promise<Stat> {
    return this.a.zk.call<Stat>('stat slot', (c, done) => c.exists(path, done));
  }

  private async exists(path: string): Promise<boolean> {
    return (await this.a.zk.call<Stat | null>('check lease', (c, done) => c.exists(path, done))) !== null;
  }

  private async children(path: string): Promise<string[]> {
    try {
      return await this.a.zk.call<string[]>('list slots', (c, done) => c.getChildren(path, done));
    } catch (err) {
      if (zkCode(err) === Exception.NO_NODE) return [];
      throw err;
    }
  }

  private async remove(path: string, version: number): Promise<void> {
    try {
      await this.a.zk.call<void>('remove slot', (c, done) => c.remove(path, version, done));
    } catch (err) {
      if (zkCode(err) !== Exception.NO_NODE) throw err;
    }
  }
}

const isLoss = (err: unknown) => {
  const code = zkCode(err);
  return code === Exception.CONNECTION_LOSS || code === Exception.SESSION_EXPIRED;
};
