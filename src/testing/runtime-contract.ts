import { describe, expect, it } from 'vitest';
import type { Lease, RuntimeStore } from '../drivers/types.js';

export interface RuntimeContractSubject {
  /** Two instances (different owners) sharing one backend. */
  a: RuntimeStore;
  b: RuntimeStore;
  close?: () => Promise<void>;
}

export interface RuntimeContractOptions {
  /** TTL used by the expiry tests: short, but long enough for one round trip of the store. */
  ttlMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * What every runtime store must guarantee: one holder per lease key, expiry, strictly increasing fencing
 * tokens, and state saved only by the current holder. Run by each runtime driver against its real server.
 */
export function runtimeContract(
  name: string,
  make: () => Promise<RuntimeContractSubject>,
  o: RuntimeContractOptions,
): void {
  const key = () => `contract/${process.pid}/${Math.random().toString(36).slice(2)}`;
  const run = async (fn: (s: RuntimeContractSubject) => Promise<void>) => {
    const s = await make();
    try {
      await fn(s);
    } finally {
      await s.close?.();
    }
  };

  describe(`runtime contract: ${name}`, () => {
    it('gives a lease to one instance at a time', () =>
      run(async ({ a, b }) => {
        const k = key();
        const lease = await a.acquire(k, 60_000);
        expect(lease).toMatchObject({ key: k });
        expect(lease!.token).toBeGreaterThan(0);
        expect(await b.acquire(k, 60_000)).toBeNull();
        expect(await a.acquire(k, 60_000)).toBeNull();
      }));

    it('frees a released lease, with a higher token for the next holder', () =>
      run(async ({ a, b }) => {
        const k = key();
        const first = (await a.acquire(k, 60_000))!;
        await a.release(first);
        const second = await b.acquire(k, 60_000);
        expect(second).not.toBeNull();
        expect(second!.token).toBeGreaterThan(first.token);
        expect(second!.takenOver).toBe(false);
      }));

    it('lets an expired lease be taken over, and then refuses the old holder', () =>
      run(async ({ a, b }) => {
        const k = key();
        const old = (await a.acquire(k, o.ttlMs))!;
        await a.save(k, { by: 'a' }, old);
        await sleep(o.ttlMs * 1.5);
        const taken = (await b.acquire(k, 60_000))!;
        expect(taken).not.toBeNull();
        expect(taken.takenOver).toBe(true);
        expect(taken.token).toBeGreaterThan(old.token);
        expect(await a.renew(old, 60_000)).toBeNull();
        await expect(a.save(k, { by: 'stale a' }, old)).rejects.toMatchObject({ code: 'runtime_save_0001' });
        await a.release(old); // must not free b's lease
        expect(await a.acquire(k, 60_000)).toBeNull();
        expect(await b.load(k)).toEqual({ by: 'a' });
      }));

    it('keeps a renewed lease past its first expiry', () =>
      run(async ({ a, b }) => {
        const k = key();
        let lease: Lease | null = (await a.acquire(k, o.ttlMs))!;
        for (let i = 0; i < 3; i++) {
          await sleep(o.ttlMs / 2);
          lease = await a.renew(lease!, o.ttlMs);
          expect(lease).not.toBeNull();
        }
        expect(await b.acquire(k, o.ttlMs)).toBeNull();
      }));

    it('saves and loads plain JSON for the lease holder only', () =>
      run(async ({ a, b }) => {
        const k = key();
        expect(await a.load(k)).toBeNull();
        const lease = (await a.acquire(k, 60_000))!;
        const state = {
          version: 1,
          n: 3,
          list: [1, 'two', null],
          nested: { ok: true },
          at: '2026-11-21T12:00:00.000Z',
        };
        await a.save(k, state, lease);
        expect(await b.load(k)).toEqual(state);
        await a.release(lease);
        await expect(a.save(k, { after: 'release' }, lease)).rejects.toMatchObject({
          code: 'runtime_save_0001',
        });
        expect(await a.load(k)).toEqual(state);
      }));

    it('hands one lease to exactly one of many racing acquirers', () =>
      run(async ({ a, b }) => {
        const k = key();
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).acquire(k, 60_000)),
        );
        expect(results.filter((r) => r !== null)).toHaveLength(1);
      }));

    it('issues strictly increasing tokens across holders', () =>
      run(async ({ a, b }) => {
        const k = key();
        const tokens: number[] = [];
        for (let i = 0; i < 6; i++) {
          const store = i % 2 ? a : b;
          const lease = (await store.acquire(k, 60_000))!;
          tokens.push(lease.token);
          await store.release(lease);
        }
        expect([...tokens].sort((x, y) => x - y)).toEqual(tokens);
        expect(new Set(tokens).size).toBe(tokens.length);
      }));
  });
}
