import { ShepherdError } from '../../errors/shepherd-error.js';
import type { Clock } from '../../util/clock.js';
import type { Lease, LockOwner, LockResult, LockSlot, LockStore } from '../types.js';

interface Hold {
  slot: LockSlot;
  lease: { key: string; token: number };
}

/** The fence of a lock write: the lease it carries is still its key's current lease. */
export const staleLock = (lease: Lease) =>
  new ShepherdError('runtime_lock_0001', `${lease.key}: token ${lease.token} is stale`, {
    details: { lease: lease.key, token: lease.token },
  });

/**
 * Infrastructure locks in this process's memory, with the same slots, expiry and fencing as the shared
 * stores. `holds(lease)` says whether a lease is still its key's current one (InMemoryRuntime's leases).
 */
export class MemoryLockStore implements LockStore {
  private readonly holds = new Map<string, Hold[]>();
  private serial = 0;

  constructor(
    private readonly clock: Clock,
    private readonly current: (lease: Lease) => boolean,
  ) {}

  async acquireLock(
    key: string,
    slots: number,
    owner: LockOwner,
    lease: Lease,
    ttlMs: number,
  ): Promise<LockResult> {
    if (!this.current(lease)) throw staleLock(lease);
    const live = this.live(key);
    if (live.length >= slots) return { busy: live.map((h) => ({ ...h.slot })) };
    const slot: LockSlot = {
      key,
      id: String(++this.serial),
      owner: { ...owner },
      expiresAt: this.clock.now() + ttlMs,
    };
    live.push({ slot, lease: { key: lease.key, token: lease.token } });
    this.holds.set(key, live);
    return { held: { ...slot } };
  }

  async renewLock(slot: LockSlot, lease: Lease, ttlMs: number): Promise<LockSlot | null> {
    const hold = this.find(slot, lease);
    if (!hold || !this.current(lease)) return null;
    hold.slot.expiresAt = this.clock.now() + ttlMs;
    return { ...hold.slot };
  }

  async releaseLock(slot: LockSlot, lease: Lease): Promise<void> {
    const hold = this.find(slot, lease);
    if (!hold) return;
    this.holds.set(
      slot.key,
      this.live(slot.key).filter((h) => h !== hold),
    );
  }

  async listLocks(key: string): Promise<LockSlot[]> {
    return this.live(key).map((h) => ({ ...h.slot }));
  }

  /** The unexpired holds of a key (expired ones are dropped: a crashed holder never blocks for good). */
  private live(key: string): Hold[] {
    const now = this.clock.now();
    return (this.holds.get(key) ?? []).filter((h) => h.slot.expiresAt > now);
  }

  private find(slot: LockSlot, lease: Lease): Hold | undefined {
    return this.live(slot.key).find(
      (h) => h.slot.id === slot.id && h.lease.key === lease.key && h.lease.token === lease.token,
    );
  }
}
