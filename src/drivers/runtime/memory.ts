import { z } from 'zod';
import { ShepherdError } from '../../errors/shepherd-error.js';
import type { Clock } from '../../util/clock.js';
import { defineDriver, type Lease, type RuntimeStore } from '../types.js';
import { zodOptions } from '../zod-options.js';
import { MemoryLockStore } from './memory-locks.js';
import { MemoryTaskStore } from './memory-tasks.js';

interface LeaseRow {
  owner: string;
  token: number;
  expiresAt: number;
  released: boolean;
}

/**
 * Runtime state in this process's memory: leases with owner, expiry and fencing token exactly as the
 * shared stores keep them, so the reconcile loop behaves the same whichever store is configured.
 * States are kept as the saved objects themselves, deeply frozen: no copy per save and load (a thousand
 * presets are saved every cycle), and a caller that tried to change a saved state would fail loudly
 * instead of changing what the store holds.
 */
export class InMemoryRuntime {
  private readonly leases = new Map<string, LeaseRow>();
  private readonly tokens = new Map<string, number>();
  private readonly states = new Map<string, { state: unknown; token: number }>();
  /** Task records, written only while the lease they carry is the current one of its key. */
  readonly tasks = new MemoryTaskStore((lease) => this.holds(lease));
  /** Infrastructure locks, taken only under the current lease of a preset. */
  readonly locks: MemoryLockStore;

  constructor(private readonly clock: Clock) {
    this.locks = new MemoryLockStore(clock, (lease) => this.holds(lease));
  }

  /** The store as one instance (owner) sees it; several owners on one backend share its leases. */
  as(owner: string): RuntimeStore {
    return {
      acquire: (key, ttlMs) => this.acquire(key, ttlMs, owner),
      renew: (lease, ttlMs) => this.renew(lease, ttlMs),
      release: (lease) => this.release(lease),
      load: (preset) => this.load(preset),
      save: (preset, state, lease) => this.save(preset, state, lease),
      tasks: this.tasks,
      locks: this.locks,
    };
  }

  async acquire(key: string, ttlMs: number, owner = 'local'): Promise<Lease | null> {
    const now = this.clock.now();
    const row = this.leases.get(key);
    if (row && !row.released && row.expiresAt > now) return null;
    const token = (this.tokens.get(key) ?? 0) + 1;
    this.tokens.set(key, token);
    const takenOver = Boolean(row && !row.released);
    const next = { owner, token, expiresAt: now + ttlMs, released: false };
    this.leases.set(key, next);
    return { key, owner, token, expiresAt: next.expiresAt, takenOver };
  }

  async renew(lease: Lease, ttlMs: number): Promise<Lease | null> {
    const row = this.leases.get(lease.key);
    const now = this.clock.now();
    if (!row || row.released || row.token !== lease.token || row.expiresAt <= now) return null;
    row.expiresAt = now + ttlMs;
    return { ...lease, expiresAt: row.expiresAt };
  }

  async release(lease: Lease): Promise<void> {
    const row = this.leases.get(lease.key);
    if (row && row.token === lease.token) row.released = true;
  }

  /** True while `lease` is its key's current lease: same token, not released, not expired. */
  holds(lease: Lease): boolean {
    const row = this.leases.get(lease.key);
    return Boolean(row && !row.released && row.token === lease.token && row.expiresAt > this.clock.now());
  }

  async load(preset: string): Promise<unknown | null> {
    return this.states.get(preset)?.state ?? null;
  }

  async save(preset: string, state: unknown, lease: Lease): Promise<void> {
    const row = this.leases.get(lease.key);
    const current = this.states.get(preset);
    if (!row || row.released || row.token !== lease.token || (current && current.token > lease.token)) {
      throw new ShepherdError('runtime_save_0001', `${preset}: token ${lease.token} is stale`, {
        details: { preset, token: lease.token, current: row?.token },
      });
    }
    this.states.set(preset, { state: deepFreeze(structuredCloneIfNotPlain(state)), token: lease.token });
  }
}

export const inMemoryDriver = defineDriver({
  kind: 'runtime',
  name: 'InMemoryDriver',
  description: 'Leases and preset state in this process (one instance only; lost on restart)',
  ...zodOptions(z.strictObject({})),
  create: (_options, ctx) => new InMemoryRuntime(ctx.clock).as(ctx.instanceId),
});

/** Freezes a JSON value and everything in it; parts already frozen (shared with an earlier state) are skipped. */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  Object.freeze(value);
  // Without Object.values: no array per object frozen (a thousand states are saved every cycle).
  if (Array.isArray(value)) for (const child of value) deepFreeze(child);
  else for (const key in value) deepFreeze((value as Record<string, unknown>)[key]);
  return value;
}

/** States must be plain JSON: anything else (a class instance, a Date) is normalised through JSON once. */
function structuredCloneIfNotPlain(state: unknown): unknown {
  const proto = typeof state === 'object' && state !== null ? Object.getPrototypeOf(state) : null;
  return proto === Object.prototype || proto === Array.prototype || proto === null
    ? state
    : JSON.parse(JSON.stringify(state));
}
