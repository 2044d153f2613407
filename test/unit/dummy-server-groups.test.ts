import { describe, expect, it } from 'vitest';
import { SimulatedCloud } from '../../src/drivers/iaas/dummy/cloud.js';
import { groupZone } from '../../src/drivers/iaas/dummy/group-hosts.js';
import { dummyOptionsSchema } from '../../src/drivers/iaas/dummy/options.js';
import type { ServerGroupSpec } from '../../src/drivers/types.js';
import { specFor } from '../../src/testing/iaas-contract.js';
import { systemClock } from '../../src/util/clock.js';
import { eventually } from '../helpers/daemon.js';

const ZONES = ['nova', 'az1', 'az2'];
const cloudWith = (extra: Record<string, unknown> = {}) =>
  new SimulatedCloud(
    dummyOptionsSchema.parse({ latency: 0, boot_time: 0.05, zones: ZONES, ...extra }),
    systemClock,
  );
const anti: ServerGroupSpec = { policy: 'anti-affinity' };
const spec = (serverGroup?: ServerGroupSpec) =>
  specFor('web', { flavor: 'small' }, serverGroup ? { serverGroup } : {});

describe('server groups in the simulated cloud (each zone one host)', () => {
  it('puts 3 anti-affinity VMs in 3 zones and fails the 4th with no valid host', async () => {
    const cloud = cloudWith();
    const vms = [];
    for (const k of ['k1', 'k2', 'k3']) vms.push(await cloud.create(spec(anti), k));
    expect(new Set(vms.map((v) => v.availabilityZone))).toEqual(new Set(ZONES));
    await expect(cloud.create(spec(anti), 'k4')).rejects.toMatchObject({ code: 'dummy_create_0002' });
    // Another preset's group, and a VM without a group, are not held back by it.
    expect(
      (await cloud.create(specFor('db', { flavor: 'small' }, { serverGroup: anti }), 'k5')).id,
    ).toBeTruthy();
    expect((await cloud.create(spec(), 'k6')).id).toBeTruthy();
  });

  it('fails the 4th as Nova does with no_valid_host: boot (the create taken, the VM to ERROR)', async () => {
    const cloud = cloudWith({ no_valid_host: 'boot' });
    for (const k of ['k1', 'k2', 'k3']) await cloud.create(spec(anti), k);
    const fourth = await cloud.create(spec(anti), 'k4');
    const seen = await eventually(
      () => cloud.get(fourth.id),
      (v) => v?.state !== 'pending',
      5000,
    );
    expect(seen?.state).toBe('error');
    expect(seen?.fault).toMatch(/anti-affinity/);
  });

  it('chooses zones by policy: soft spreads, affinity follows the members, an asked zone may be refused', () => {
    expect(groupZone({ policy: 'soft-anti-affinity' }, ZONES, ['nova', 'nova', 'az1'], undefined)).toBe(
      'az2',
    );
    expect(groupZone({ policy: 'soft-anti-affinity' }, ZONES, ZONES, undefined)).toBe('nova');
    expect(groupZone({ policy: 'affinity' }, ZONES, ['az1'], undefined)).toBe('az1');
    expect(() => groupZone(anti, ZONES, ['az1'], 'az1')).toThrow(/anti-affinity/);
    expect(groupZone({ id: 'g' }, ZONES, ['az1'], undefined)).toBeUndefined();
    expect(groupZone(anti, undefined, ['az1'], undefined)).toBeUndefined();
  });
});
