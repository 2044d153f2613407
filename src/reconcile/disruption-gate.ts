import type { Logger } from 'pino';
import type { Lease, LockSlot, LockStore, Vm } from '../drivers/types.js';
import { asShepherdError } from '../errors/shepherd-error.js';
import { type DisruptionLimits, type LockLevel, type LockNeed, locksFor, waitReason } from './lock-keys.js';
import type { PresetEvent } from './state.js';

/** A disruption that could not start: the lock that has no free slot, and who holds it. */
export interface LockWait {
  level: LockLevel;
  key: string;
  reason: string;
}

export type GateResult<T> = { ran: true; value: T } | { ran: false; wait: LockWait };

export interface DisruptionGateDeps {
  locks: LockStore;
  limits: DisruptionLimits;
  /** The driver's account for locks (IaasDriver.lockAccount), when it names one. */
  account: string | undefined;
  instance: string;
  preset: string;
  /** How long a slot counts without renewal: the preset lease's TTL (renewed every third of it). */
  ttlMs: number;
  lease: { readonly current: Lease; readonly signal: AbortSignal };
  record(event: Omit<PresetEvent, 'at' | 'token' | 'instance'>): void;
  logger: Logger;
  /** Counts a deferral (the metric). */
  onWait?: (level: LockLevel) => void;
}

/**
 * Runs disruptive cloud calls under the infrastructure locks of `limits:` (docs/locks.md). Each call takes
 * every lock its VM needs (host, zone, account) before it starts and frees them once it is over; when one
 * has no free slot, the call does not start: the locks already taken are freed and the wait is returned,
 * with a `lock_waiting` event naming the lock and its holders, for the caller to defer the action to its
 * next manage. It never waits in place: a lock held for minutes must not hold the manage (and the preset
 * lease) with it. Every call it runs is recorded as `disruption_started` and `disruption_ended`, with the
 * host, zone and operation, so that the timeline shows what ran at once where.
 */
export class DisruptionGate {
  constructor(private readonly d: DisruptionGateDeps) {}

  /** `observe`, after the call answered: waits for its effect and says what the cloud showed. */
  async run<T>(
    vm: Vm,
    operation: string,
    call: () => Promise<T>,
    observe?: () => Promise<string>,
  ): Promise<GateResult<T>> {
    const needs = locksFor(vm, this.d.account, this.d.limits);
    const held: LockSlot[] = [];
    try {
      for (const need of needs) {
        const got = await this.take(need, vm, operation);
        if ('busy' in got) {
          const wait = { level: need.level, key: need.key, reason: waitReason(need, got.busy) };
          this.d.record({ type: 'lock_waiting', vm: vm.id, reason: `${operation}: ${wait.reason}` });
          this.d.logger.info({ vm: vm.id, operation, lock: need.key }, wait.reason);
          this.d.onWait?.(need.level);
          return { ran: false, wait };
        }
        held.push(got.held);
      }
      return { ran: true, value: await this.timed(vm, operation, held, call, observe) };
    } finally {
      await this.free(held);
    }
  }

  private take(need: LockNeed, vm: Vm, operation: string) {
    const owner = { instance: this.d.instance, preset: this.d.preset, vm: vm.id, operation };
    return this.d.locks.acquireLock(need.key, need.slots, owner, this.d.lease.current, this.d.ttlMs, {
      signal: this.d.lease.signal,
    });
  }

  /** The call between its two events, the slots renewed meanwhile. */
  private async timed<T>(
    vm: Vm,
    operation: string,
    held: LockSlot[],
    call: () => Promise<T>,
    observe: (() => Promise<string>) | undefined,
  ): Promise<T> {
    const data = {
      operation,
      ...(vm.host ? { host: vm.host } : {}),
      ...(vm.availabilityZone ? { zone: vm.availabilityZone } : {}),
      locks: held.map((s) => s.key).join(' ') || 'none',
    };
    this.d.record({ type: 'disruption_started', vm: vm.id, reason: operation, data });
    const renewal = setInterval(() => void this.renew(held), Math.max(1, Math.floor(this.d.ttlMs / 3)));
    try {
      const value = await call();
      const seen = observe ? await observe() : 'done';
      this.d.record({ type: 'disruption_ended', vm: vm.id, reason: `${operation}: ${seen}`, data });
      return value;
    } catch (err) {
      const error = asShepherdError(err, 'reconcile_manage_1001');
      this.d.record({
        type: 'disruption_ended',
        vm: vm.id,
        reason: `${operation}: failed: ${error.message}`,
        code: error.code,
        data,
      });
      throw err;
    } finally {
      clearInterval(renewal);
    }
  }

  private async renew(held: LockSlot[]): Promise<void> {
    for (const [i, slot] of held.entries()) {
      const next = await this.d.locks
        .renewLock(slot, this.d.lease.current, this.d.ttlMs)
        .catch((err) => void this.d.logger.warn({ err, lock: slot.key }, 'lock renewal failed'));
      if (next) held[i] = next;
      else if (next === null)
        this.d.logger.warn({ lock: slot.key, vm: slot.owner.vm }, 'lock lost during a disruptive call');
    }
  }

  private async free(held: readonly LockSlot[]): Promise<void> {
    for (const slot of held)
      await this.d.locks
        .releaseLock(slot, this.d.lease.current)
        // Not freed now, it frees itself when its time runs out.
        .catch((err) => void this.d.logger.warn({ err, lock: slot.key }, 'lock release failed'));
  }
}
