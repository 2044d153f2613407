/** The runtime store contract: leases, each preset's saved state, and (optionally) tasks and locks. */
import type { CallOptions } from './call-options.js';
import type { Lease, LeaseGuard } from './lease.js';
import type { LockStore } from './locks.js';
import type { TaskStore } from './tasks.js';

export interface RuntimeStore {
  /** Takes the lease when it is free or expired; null when another owner holds it. */
  acquire(key: string, ttlMs: number, options?: CallOptions): Promise<Lease | null>;
  /** Extends the lease; null when it was lost (expired and taken, or released). */
  renew(lease: Lease, ttlMs: number, options?: CallOptions): Promise<Lease | null>;
  /** Releases only this lease (same key and token); releasing a lost lease is a no-op. */
  release(lease: Lease, options?: CallOptions): Promise<void>;
  load(preset: string, options?: CallOptions): Promise<unknown | null>;
  /** Refused with `runtime_save_0001` when the lease's token is stale. State is plain JSON. */
  save(preset: string, state: unknown, lease: Lease, options?: CallOptions): Promise<void>;
  close?(): Promise<void>;
  /**
   * Durable task records (verbs asked of VMs), shared by every instance on this store. Optional for
   * plugin stores: without it, the daemon keeps tasks in its own memory (not shared, lost on restart).
   */
  tasks?: TaskStore;
  /**
   * For a store whose leases also end with a session (ZooKeeper): what that session still promises. Taken
   * before the acquire request is sent; the lease keeper stops trusting the lease when `valid()` turns
   * false or `signal` aborts, whatever the lease's own TTL says.
   */
  leaseGuard?(): LeaseGuard;
  /**
   * Infrastructure locks (docs/locks.md): slots limiting disruptions per host, zone and account, shared
   * by every instance on this store. Optional for plugin stores: without it, `limits:` is refused.
   */
  locks?: LockStore;
}
