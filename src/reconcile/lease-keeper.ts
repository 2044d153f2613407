import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import type { Lease, LeaseGuard, RuntimeStore } from '../drivers/types.js';
import { ShepherdError } from '../errors/shepherd-error.js';
import { type Clock, elapsedMs } from '../util/clock.js';

/**
 * Holds one preset lease while a manage runs: renews it every third of its TTL, and knows locally when
 * it can no longer be trusted. The local deadline is counted from *before* the acquire or renew request
 * was sent, so it is never later than the store's expiry, whatever the clocks say; and on a monotonic
 * clock, so a wall clock stepped back (NTP) cannot stretch it (CI once saw the wall clock step 7 s).
 * A store whose leases also end with a session (ZooKeeper) gives a guard: the lease is lost at once when
 * that session is, even long before the TTL (the store frees the lease then, whatever its TTL).
 */
export class LeaseKeeper {
  private timer: NodeJS.Timeout | undefined;
  private deadline: number;
  private lost = false;
  private readonly controller = new AbortController();
  private readonly onSessionLost = () => this.markLost('runtime store session lost');

  private constructor(
    private lease: Lease,
    private readonly ttlMs: number,
    requestedAt: number,
    private readonly runtime: RuntimeStore,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly guard: LeaseGuard | undefined,
  ) {
    this.deadline = requestedAt + ttlMs;
    // Every call of the manage listens on this signal (creates run in parallel): not a leak.
    setMaxListeners(1000, this.controller.signal);
  }

  /** Takes the lease, or returns null when another instance holds it. */
  static async acquire(
    key: string,
    ttlMs: number,
    runtime: RuntimeStore,
    clock: Clock,
    logger: Logger,
    signal?: AbortSignal,
  ) {
    const requestedAt = elapsedMs(clock);
    // Taken first: a session lost while the acquire is in flight then loses the lease too.
    const guard = runtime.leaseGuard?.();
    const lease = await runtime.acquire(key, ttlMs, signal ? { signal } : {});
    if (!lease) return null;
    const keeper = new LeaseKeeper(lease, ttlMs, requestedAt, runtime, clock, logger, guard);
    keeper.watchGuard();
    keeper.schedule();
    return keeper;
  }

  get token(): number {
    return this.lease.token;
  }

  get current(): Lease {
    return this.lease;
  }

  get takenOver(): boolean {
    return this.lease.takenOver;
  }

  /** Aborts when the lease is lost: in-flight work should stop issuing cloud calls. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** True while the lease is certainly still ours (with a safety margin of a tenth of the TTL). */
  valid(): boolean {
    return (
      !this.lost && elapsedMs(this.clock) < this.deadline - this.ttlMs / 10 && (this.guard?.valid() ?? true)
    );
  }

  /** Throws `runtime_lease_0001` unless the lease is still valid: called before every cloud mutation. */
  assertValid(): void {
    if (!this.valid()) {
      this.markLost(this.guard?.valid() === false ? 'runtime store session lost' : 'local deadline passed');
      throw new ShepherdError('runtime_lease_0001', `${this.lease.key} (token ${this.lease.token})`, {
        details: { token: this.lease.token },
      });
    }
  }

  async release(): Promise<void> {
    this.guard?.signal.removeEventListener('abort', this.onSessionLost);
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.lost) return;
    this.lost = true;
    // Logged before the store frees it, with the token: the log alone shows who held which preset when.
    this.logger.debug({ fence: this.lease.token }, 'lease released');
    await this.runtime.release(this.lease).catch((err) => {
      // The lease expires on its own; releasing only frees it sooner.
      this.logger.warn({ err, code: 'runtime_lease_0001' }, 'lease release failed; it will expire');
    });
  }

  private watchGuard(): void {
    if (!this.guard) return;
    if (this.guard.signal.aborted) this.onSessionLost();
    else this.guard.signal.addEventListener('abort', this.onSessionLost, { once: true });
  }

  private schedule(): void {
    this.timer = setTimeout(() => void this.renew(), Math.max(50, this.ttlMs / 3));
    this.timer.unref();
  }

  private async renew(): Promise<void> {
    if (this.lost) return;
    const requestedAt = elapsedMs(this.clock);
    try {
      const renewed = await this.runtime.renew(this.lease, this.ttlMs);
      if (!renewed) {
        this.markLost('renew refused');
        return;
      }
      this.lease = renewed;
      this.deadline = requestedAt + this.ttlMs;
    } catch (err) {
      this.logger.warn(
        { err, code: (err as ShepherdError).code },
        'lease renew failed; retrying until it expires',
      );
    }
    if (!this.lost && this.valid()) this.schedule();
    else
      this.markLost(
        this.guard?.valid() === false
          ? 'runtime store session lost'
          : 'expired while the runtime store was unreachable',
      );
  }

  private markLost(why: string): void {
    if (this.lost) return;
    this.lost = true;
    clearTimeout(this.timer);
    this.guard?.signal.removeEventListener('abort', this.onSessionLost);
    this.logger.warn({ code: 'runtime_lease_0001', fence: this.lease.token, why }, 'lease lost');
    this.controller.abort(new ShepherdError('runtime_lease_0001', `${this.lease.key}: ${why}`));
  }
}
