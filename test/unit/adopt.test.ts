import { describe, expect, it } from 'vitest';
import type { SimulatedCloud } from '../../src/drivers/iaas/dummy/cloud.js';
import { META_PRESET, META_SPEC } from '../../src/drivers/types.js';
import { managePreset } from '../../src/reconcile/manage-preset.js';
import { Listing } from '../../src/reconcile/observe.js';
import { parseState } from '../../src/reconcile/state.js';
import { preset } from '../helpers/fixtures.js';
import { simManage } from '../helpers/sim-manage.js';

/** A VM as the original VmShepherd made it: named exactly after its preset, no metadata. */
async function original(cloud: SimulatedCloud, name: string, key: string) {
  return cloud.create(
    { preset: name, name, network: { securityGroups: [], subnets: [] }, metadata: {}, specHash: '' },
    key,
  );
}

describe('adoption of the original VmShepherd VMs', () => {
  it('adopts servers named after the preset, counts them, never duplicates or rolls them', async () => {
    const { cloud, deps } = simManage();
    const [a, b] = [await original(cloud, 'web', 'o1'), await original(cloud, 'web', 'o2')];
    await original(cloud, 'web-other', 'o3'); // another name: not this preset's
    const p = preset({ count: 2, healthcheck: null });
    for (let i = 0; i < 3; i++) await managePreset(p, deps, { force: true });
    expect(cloud.callCount('create')).toBe(3); // the three made above, none by the loop
    const vms = cloud.peek().filter((v) => v.metadata[META_PRESET] === 'web');
    expect(vms.map((v) => v.id).sort()).toEqual([a.id, b.id].sort());
    expect(vms.every((v) => v.metadata[META_SPEC] === undefined)).toBe(true);
    const events = parseState(await deps.runtime.load('web')).events;
    expect(events.filter((e) => e.type === 'adopted').map((e) => e.vm)).toEqual([a.id, b.id]);
    expect(events.filter((e) => e.type !== 'adopted')).toEqual([]); // nothing terminated for its spec
  });

  it('takes them from the account listing as from a listing of the preset', async () => {
    const { cloud, account, deps } = simManage();
    await original(cloud, 'web', 'o1');
    const groups = await account.listAllByPreset();
    const shared = new Listing(Date.now() + 5000, groups);
    const outcome = await managePreset(preset({ count: 1, healthcheck: null }), {
      ...deps,
      sharedListing: async () => shared,
    });
    expect(outcome).toMatchObject({ result: 'managed', created: 0 });
    expect(cloud.peek()[0]?.metadata[META_PRESET]).toBe('web');
  });

  it('leaves them alone, and builds its own, when adopt_by_name is off', async () => {
    const { cloud, deps } = simManage();
    const old = await original(cloud, 'web', 'o1');
    await managePreset(preset({ count: 1, healthcheck: null, adoptByName: false }), deps, { force: true });
    expect(cloud.size()).toBe(2);
    expect(cloud.peek().find((v) => v.id === old.id)?.metadata[META_PRESET]).toBeUndefined();
  });
});
