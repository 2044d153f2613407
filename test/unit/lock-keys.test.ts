import { describe, expect, it } from 'vitest';
import type { LockSlot } from '../../src/drivers/types.js';
import { limitsOf, locksFor, terminateDisrupts, waitReason } from '../../src/reconcile/lock-keys.js';
import { firstBusy } from '../../src/reconcile/lock-preview.js';

describe('locksFor', () => {
  const all = { host: 1, az: 3, account: 10 };
  it.each([
    {
      what: 'every level the VM and the driver tell',
      vm: { host: 'h1', availabilityZone: 'az1' },
      account: 'acct',
      limits: all,
      keys: ['host:acct:h1/1', 'az:acct:az1/3', 'account:acct/10'],
    },
    {
      what: 'no host id: the host level is skipped',
      vm: { availabilityZone: 'az1' },
      account: 'acct',
      limits: all,
      keys: ['az:acct:az1/3', 'account:acct/10'],
    },
    {
      what: 'no zone and no account: only the host',
      vm: { host: 'h1' },
      account: undefined,
      limits: all,
      keys: ['host::h1/1'],
    },
    {
      what: 'a level without a limit takes no lock',
      vm: { host: 'h1', availabilityZone: 'az1' },
      account: 'acct',
      limits: { az: 2 },
      keys: ['az:acct:az1/2'],
    },
    { what: 'no limits: nothing', vm: { host: 'h1' }, account: 'acct', limits: {}, keys: [] },
  ])('$what', ({ vm, account, limits, keys }) => {
    expect(locksFor(vm, account, limits).map((n) => `${n.key}/${n.slots}`)).toEqual(keys);
  });
});

describe('limitsOf', () => {
  it.each([
    { settings: undefined, limits: {} },
    { settings: { disruptions_per_host: 1 }, limits: { host: 1 } },
    {
      settings: { disruptions_per_host: 1, disruptions_per_az: 2, disruptions_per_account: 5 },
      limits: { host: 1, az: 2, account: 5 },
    },
  ])('$settings → $limits', ({ settings, limits }) => {
    expect(limitsOf(settings)).toEqual(limits);
  });
});

describe('terminateDisrupts', () => {
  it.each([
    ['running', true],
    ['pending', true],
    ['unknown', true],
    ['error', false],
    ['stopped', false],
    ['deleting', false],
    ['terminated', false],
  ] as const)('a VM %s: %s', (state, disrupts) => {
    expect(terminateDisrupts({ state })).toBe(disrupts);
  });

  it('a VM the listing does not show: no lock', () => {
    expect(terminateDisrupts(undefined)).toBe(false);
  });
});

describe('waits', () => {
  const slot = (vm: string): LockSlot => ({
    key: 'host:a:h1',
    id: vm,
    owner: { instance: 'i-1', preset: 'web', vm, operation: 'terminate' },
    expiresAt: 0,
  });

  it('names the lock and every holder', () => {
    expect(waitReason({ key: 'host:a:h1', slots: 1 }, [slot('vm-7')])).toBe(
      'waiting for lock host:a:h1 (1 at once): held by i-1 for web/vm-7 (terminate)',
    );
  });

  it.each([
    { held: { 'host:a:h1': 1 }, busy: 'host:a:h1' },
    { held: { 'host:a:h1': 0, 'az:a:z': 2 }, busy: 'az:a:z' },
    { held: { 'host:a:h1': 0, 'az:a:z': 1 }, busy: undefined },
  ])('the first lock whose slots are all held: $busy', ({ held, busy }) => {
    const holders = new Map(
      Object.entries(held).map(([k, n]) => [k, Array.from({ length: n }, (_, i) => slot(`vm-${i}`))]),
    );
    const needs = [
      { level: 'host' as const, key: 'host:a:h1', slots: 1 },
      { level: 'az' as const, key: 'az:a:z', slots: 2 },
    ];
    expect(firstBusy(needs, holders)?.need.key).toBe(busy);
  });
});
