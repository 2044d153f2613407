import PQueue from 'p-queue';
import { describe, expect, it } from 'vitest';
import { CloudAccount } from '../../src/daemon/cloud-account.js';
import { SimulatedCloud } from '../../src/drivers/iaas/dummy/cloud.js';
import { dummyDriverFor } from '../../src/drivers/iaas/dummy/driver.js';
import { dummyOptionsSchema } from '../../src/drivers/iaas/dummy/options.js';
import { InMemoryRuntime } from '../../src/drivers/runtime/memory.js';
import { META_PRESET, META_SPEC } from '../../src/drivers/types.js';
import { type ManageDeps, managePreset } from '../../src/reconcile/manage-preset.js';
import { Listing } from '../../src/reconcile/observe.js';
import { parseState } from '../../src/reconcile/state.js';
import { systemClock } from '../../src/util/clock.js';
import { quietLogger } from '../helpers/catalog.js';
import { preset } from '../helpers/fixtures.js';

function setup() {
  const cloud = new SimulatedCloud(dummyOptionsSchema.parse({ latency: 0, boot_time: 0 }), systemClock);
  const account = new CloudAccount('acct', 'DummyIaasDriver', dummyDriverFor(cloud), {
    maxConcurrentCalls: 8,
    callsPerSecond: 0,
  });
  const deps: ManageDeps = {
    runtime: new InMemoryRuntime(systemClock).as('me'),
    cloud: account,
    health: null,
    healthQueue: new PQueue({ concurrency: 8 }),
    clock: systemClock,
    logger: quietLogger(),
    instanceId: 'me',
    eventsKept: 100,
    healthHistory: 10,
    stopping: new AbortController().signal,
  };
  return { cloud, account, deps };
}

/** A VM as the original VmShepherd made it: named exactly after its preset, no metadata. */
async function original(cloud: SimulatedCloud, name: string, key: string) {
  return cloud.create(
    { preset: name, name, network: { securityGroups: [], subnets: [] }, metadata: {}, specHash: '' },
    key,
  );
}

describe('adoption of the original VmShepherd VMs', () => {
  it('adopts servers named after the preset, counts them, never duplicates or rolls them', async () => {
    const { cloud, deps } = setup();
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
    const { cloud, account, deps } = setup();
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
    const { cloud, deps } = setup();
    const old = await original(cloud, 'web', 'o1');
    await managePreset(preset({ count: 1, healthcheck: null, adoptByName: false }), deps, { force: true });
    expect(cloud.size()).toBe(2);
    expect(cloud.peek().find((v) => v.id === old.id)?.metadata[META_PRESET]).toBeUndefined();
  });
});
