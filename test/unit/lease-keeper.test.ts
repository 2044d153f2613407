import { describe, expect, it } from 'vitest';
import { InMemoryRuntime } from '../../src/drivers/runtime/memory.js';
import type { RuntimeStore } from '../../src/drivers/types.js';
import { LeaseKeeper } from '../../src/reconcile/lease-keeper.js';
import { type Clock, systemClock } from '../../src/util/clock.js';
import { quietLogger } from '../helpers/catalog.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function stores(backend = new InMemoryRuntime(systemClock)) {
  return { a: backend.as('a'), b: backend.as('b') };
}

describe('LeaseKeeper', () => {
  it('renews the lease while a long manage runs, then releases it', async () => {
    const { a, b } = stores();
    const keeper = (await LeaseKeeper.acquire('k', 300, a, systemClock, quietLogger()))!;
    await sleep(800); // more than two TTLs
    expect(keeper.valid()).toBe(true);
    expect(await b.acquire('k', 300)).toBeNull();
    await keeper.release();
    expect(await b.acquire('k', 300)).not.toBeNull();
  });

  it('aborts its signal and refuses actions once the lease is lost', async () => {
    const { a } = stores();
    const lost: RuntimeStore = { ...a, renew: async () => null };
    const keeper = (await LeaseKeeper.acquire('k', 150, lost, systemClock, quietLogger()))!;
    await sleep(120);
    expect(keeper.signal.aborted).toBe(true);
    expect(() => keeper.assertValid()).toThrow(expect.objectContaining({ code: 'runtime_lease_0001' }));
  });

  it('stops trusting a lease it cannot renew before the store would let it expire', async () => {
    const { a, b } = stores();
    const unreachable: RuntimeStore = {
      ...a,
      renew: async () => {
        throw new Error('connection refused');
      },
    };
    const keeper = (await LeaseKeeper.acquire('k', 300, unreachable, systemClock, quietLogger()))!;
    await sleep(200);
    expect(keeper.valid()).toBe(true);
    await sleep(100); // past ttl - ttl/10 from the acquire request
    expect(keeper.valid()).toBe(false);
    await sleep(50);
    expect(await b.acquire('k', 300)).not.toBeNull(); // expired in the store too: taken over
  });

  it('counts its local deadline on a monotonic clock: a wall clock stepped back does not stretch it', async () => {
    const { a } = stores();
    const unreachable: RuntimeStore = {
      ...a,
      renew: async () => {
        throw new Error('connection refused');
      },
    };
    let stepBack = 0;
    const stepped: Clock = { ...systemClock, now: () => Date.now() - stepBack };
    const keeper = (await LeaseKeeper.acquire('k', 300, unreachable, stepped, quietLogger()))!;
    stepBack = 10_000; // NTP steps the wall clock back 10 s
    await sleep(300);
    expect(keeper.valid()).toBe(false);
  });
});
