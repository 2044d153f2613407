/** Infrastructure locks of the runtime store (docs/locks.md). */
import type { CallOptions } from './call-options.js';
import type { Lease } from './lease.js';

/** Who holds a lock slot: shown in plan reasons and events of whoever waits for it. */
export interface LockOwner {
  instance: string;
  preset: string;
  vm: string;
  /** The disruptive call, e.g. `terminate`, `reboot`, `rebuild`. */
  operation: string;
}

/** One held slot of a lock. `id` names this hold only: a later holder of the same slot has another. */
export interface LockSlot {
  key: string;
  id: string;
  owner: LockOwner;
  /** Epoch ms (store clock); a slot whose time passed is free. */
  expiresAt: number;
}

/** A slot taken, or the holders that keep every slot busy. */
export type LockResult = { held: LockSlot } | { busy: LockSlot[] };

/**
 * Counting semaphores: `slots` holders of one key at a time, each under the preset lease it was taken
 * with. Every write is fenced by that lease as `save` is: a holder whose lease is no longer current cannot
 * take, extend or release a slot (`runtime_lock_0001` on take), and a hold is renewed or released only by
 * the id it was given, so no caller ever frees another's slot.
 */
export interface LockStore {
  acquireLock(
    key: string,
    slots: number,
    owner: LockOwner,
    lease: Lease,
    ttlMs: number,
    options?: CallOptions,
  ): Promise<LockResult>;
  /** Extends the hold; null when it was lost (expired and taken, released, or the lease is stale). */
  renewLock(slot: LockSlot, lease: Lease, ttlMs: number, options?: CallOptions): Promise<LockSlot | null>;
  /** Frees the hold; a hold already lost is a no-op. */
  releaseLock(slot: LockSlot, lease: Lease, options?: CallOptions): Promise<void>;
  /** The unexpired holds of a key. */
  listLocks(key: string, options?: CallOptions): Promise<LockSlot[]>;
}
