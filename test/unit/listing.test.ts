import { describe, expect, it } from 'vitest';
import { type IaasDriver, META_PRESET, type Vm } from '../../src/drivers/types.js';
import type { Preset } from '../../src/presets/preset.js';
import { Listing, observe } from '../../src/reconcile/observe.js';
import { emptyState } from '../../src/reconcile/state.js';

const vm = (id: string): Vm => ({
  id,
  name: id,
  state: 'running',
  ips: [],
  createdAt: '',
  metadata: { [META_PRESET]: 'a' },
});
/** Groups as a driver hands them: each preset's VMs decoded when asked for. */
const groups = (byPreset: Record<string, Vm[]>) =>
  new Map(Object.entries(byPreset).map(([preset, vms]) => [preset, () => vms]));

describe('an account listing shared by the presets of a cycle', () => {
  it('hands each preset its VMs once, and lets go of them', () => {
    const listing = new Listing(1000, groups({ a: [vm('a1'), vm('a2')] }));
    expect(listing.take('a')?.map((v) => v.id)).toEqual(['a1', 'a2']);
    expect(listing.take('a')).toBeUndefined();
    expect(listing.take('b')).toEqual([]);
    expect(listing.take('b')).toBeUndefined();
  });

  it("decodes a preset's VMs only when taken, and a decoding failure fails that preset alone", () => {
    const decoded: string[] = [];
    const listing = new Listing(
      1000,
      new Map([
        [
          'a',
          () => {
            decoded.push('a');
            return [vm('a1')];
          },
        ],
        [
          'b',
          () => {
            throw new Error('bad line');
          },
        ],
      ]),
    );
    expect(decoded).toEqual([]);
    expect(() => listing.take('b')).toThrow('bad line');
    expect(listing.take('a')).toHaveLength(1);
    expect(listing.take('a')).toBeUndefined();
    expect(decoded).toEqual(['a']);
  });

  it('a preset managed twice in one cycle lists itself the second time', async () => {
    const listed: string[] = [];
    const cloud = {
      list: async (preset: string) => {
        listed.push(preset);
        return [vm('fresh')];
      },
    } as unknown as IaasDriver;
    const preset = { name: 'a' } as Preset;
    const listing = new Listing(Date.now(), groups({ a: [vm('shared')] }));
    const signal = new AbortController().signal;
    const state = emptyState();
    expect((await observe(preset, cloud, state, listing, false, signal)).map((v) => v.id)).toEqual([
      'shared',
    ]);
    expect((await observe(preset, cloud, state, listing, false, signal)).map((v) => v.id)).toEqual(['fresh']);
    expect(listed).toEqual(['a']);
  });

  it('a listing older than the last save is not used (and not taken)', async () => {
    const cloud = { list: async () => [vm('fresh')] } as unknown as IaasDriver;
    const listing = new Listing(1000, groups({ a: [vm('shared')] }));
    const state = { ...emptyState(), lastSavedAt: 500 };
    const vms = await observe(
      { name: 'a' } as Preset,
      cloud,
      state,
      listing,
      false,
      new AbortController().signal,
    );
    expect(vms.map((v) => v.id)).toEqual(['fresh']);
    expect(listing.take('a')?.map((v) => v.id)).toEqual(['shared']);
  });
});
