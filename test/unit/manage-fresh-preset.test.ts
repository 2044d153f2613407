import { describe, expect, it } from 'vitest';
import { managePreset } from '../../src/reconcile/manage-preset.js';
import { vmSpec as vmSpecOf } from '../../src/reconcile/spec.js';
import { parseState } from '../../src/reconcile/state.js';
import { preset } from '../helpers/fixtures.js';
import { simManage } from '../helpers/sim-manage.js';

const running = (vms: { state: string }[]) => vms.filter((v) => v.state === 'running').length;

describe('a manage after another instance managed a different revision of the preset', () => {
  it('reads the preset again and acts on what the store holds now, not on its own older copy', async () => {
    const { cloud, deps } = simManage();
    const v1 = preset({ count: 3, healthcheck: null });
    const v2 = preset({ count: 5, healthcheck: null, source: { ...v1.source, revision: 'r2' } });
    // Instance "other" already managed revision r2 (count 5).
    await managePreset(v2, { ...deps, instanceId: 'other' }, { force: true });
    expect(running(cloud.peek())).toBe(5);
    let asked = 0;
    const freshPreset = async () => {
      asked++;
      return v2;
    };
    // This instance still holds r1 (count 3): without reading again it would scale in to 3.
    const o = await managePreset(v1, { ...deps, freshPreset }, { force: true });
    expect(o.result).toBe('managed');
    expect(asked).toBe(1);
    expect(o.terminated).toBe(0);
    expect(running(cloud.peek())).toBe(5);
    expect(parseState(await deps.runtime.load('web')).revision).toBe('r2');
    // Its own last manage, or the same revision, asks nothing.
    await managePreset(v2, { ...deps, freshPreset }, { force: true });
    expect(asked).toBe(1);
  });

  it('stops when the preset is gone from the store', async () => {
    const { deps } = simManage();
    const v1 = preset({ count: 2, healthcheck: null });
    await managePreset(
      preset({ ...v1, source: { ...v1.source, revision: 'r2' } }),
      { ...deps, instanceId: 'other' },
      { force: true },
    );
    const o = await managePreset(v1, { ...deps, freshPreset: async () => undefined }, { force: true });
    expect(o.result).toBe('not_due');
    expect(o.created + o.terminated).toBe(0);
  });
});

describe('a manage that finds VMs built from a revision this instance never read', () => {
  it('reads the preset again once (a save of the other instance may have failed), then knows it', async () => {
    const { cloud, deps } = simManage();
    const v1 = preset({ count: 3, healthcheck: null });
    const v2 = preset({ count: 5, healthcheck: null, source: { ...v1.source, revision: 'r2' } });
    await managePreset(v1, deps, { force: true }); // this instance, r1: 3 VMs, state says r1 by "me"
    // Another instance built two more VMs from r2, and could not save its state.
    for (let i = 0; i < 2; i++) await cloud.create({ ...vmSpecOf(v2), name: `web-x${i}` }, `x${i}`);
    const known = new Set<string>();
    let asked: readonly string[] = [];
    const o = await managePreset(
      v1,
      {
        ...deps,
        knowsRevision: (_n, r) => known.has(r),
        freshPreset: async (_n, unseen) => {
          asked = unseen;
          for (const r of unseen) known.add(r);
          return v2;
        },
      },
      { force: true },
    );
    expect(asked).toEqual(['r2']);
    expect(o.terminated).toBe(0); // not scaled back in to r1's count
    expect(running(cloud.peek())).toBe(5);
  });
});

describe('a manage whose cycle began before a refresh read a newer revision', () => {
  it("acts on the catalog's newer preset, though its VMs' revision is one this instance has read", async () => {
    const { cloud, deps } = simManage();
    const v1 = preset({ count: 3, healthcheck: null });
    const v2 = preset({ count: 5, healthcheck: null, source: { ...v1.source, revision: 'r2' } });
    await managePreset(v1, deps, { force: true }); // this instance, r1: 3 VMs, its own state
    // Another instance built two more from r2 and could not save; this instance's refresh read r2 since.
    for (let i = 0; i < 2; i++) await cloud.create({ ...vmSpecOf(v2), name: `web-x${i}` }, `x${i}`);
    let fresh = 0;
    const o = await managePreset(
      v1,
      {
        ...deps,
        knowsRevision: () => true,
        currentPreset: () => v2,
        freshPreset: async () => {
          fresh++;
          return v2;
        },
      },
      { force: true },
    );
    expect(o.terminated).toBe(0); // not scaled back in to r1's count
    expect(fresh).toBe(0); // the catalog already held it: no store read
    expect(running(cloud.peek())).toBe(5);
    expect(parseState(await deps.runtime.load('web')).revision).toBe('r2');
  });

  it('stops when the catalog no longer has the preset', async () => {
    const { deps } = simManage();
    const o = await managePreset(
      preset({ count: 2, healthcheck: null }),
      { ...deps, currentPreset: () => undefined },
      { force: true },
    );
    expect(o.result).toBe('not_due');
    expect(o.created).toBe(0);
  });
});
