import { afterEach, describe, expect, it } from 'vitest';
import { formatPreview } from '../../src/cli/commands/plan.js';
import type { Daemon } from '../../src/daemon/daemon.js';
import { simulatedClouds } from '../../src/drivers/iaas/dummy/driver.js';
import type { Vm } from '../../src/drivers/types.js';
import { parseState } from '../../src/reconcile/state.js';
import { afterCycle, cloudVms, eventually, running, testDaemon } from '../helpers/daemon.js';

let daemon: Daemon | undefined;
afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
});

const ZONES = ['nova', 'az1', 'az2'];
const settings = (iaas: string) => `
runtime: {driver: InMemoryDriver}
presets: {driver: DirectoryDriver, path: presets}
defaults:
  iaas: {driver: DummyIaasDriver, latency: 0.001, boot_time: 0.1, zones: [nova, az1, az2]${iaas}}
`;
const presetFile = (name: string, extra = '') =>
  `name: ${name}\ncount: 6\nimage: img\nmanage_interval: 0\nnetwork:\n  availability_zone: [nova, az1, az2]\n${extra}`;

const perZone = (vms: Vm[] | undefined) => {
  const counts: Record<string, number> = {};
  for (const z of ZONES) counts[z] = 0;
  for (const vm of vms ?? [])
    counts[vm.availabilityZone ?? '?'] = (counts[vm.availabilityZone ?? '?'] ?? 0) + 1;
  return counts;
};

describe('zone spread on the simulated cloud', () => {
  it('spreads 6 VMs 2/2/2 over nova, az1 and az2, and plan shows the spread', async () => {
    const t = await testDaemon(settings(', seed: 31'), {
      'spread.conf': presetFile('spread', 'flavor: small\n'),
    });
    daemon = t.daemon;
    const vms = await eventually(
      afterCycle(t.daemon, () => cloudVms().get('spread')),
      (v) => running(v) === 6,
      10_000,
    );
    expect(perZone(vms)).toEqual({ nova: 2, az1: 2, az2: 2 });
    const [preview] = await t.daemon.plan('spread');
    expect(preview!.zones?.counts).toEqual({ nova: 2, az1: 2, az2: 2 });
    expect(formatPreview(preview!)).toContain('zones: nova 2, az1 2, az2 2');
    expect(preview!.create).toBe(0);
  });

  it('skips a zone without capacity with an event, converges on the others, and rebalances when it is back', async () => {
    // A short skip window, so that the test sees az2 come back: while it is still full, it is skipped again.
    const t = await testDaemon(settings(', seed: 32, zone_capacity: {az2: 1}'), {
      'full.conf': presetFile('full', 'flavor: small\ncreate_backoff: {quota_window: 0.3}\n'),
    });
    daemon = t.daemon;
    const d = t.daemon;
    const vms = await eventually(
      afterCycle(d, () => cloudVms().get('full')),
      (v) => running(v) === 6 && (v ?? []).length === 6,
      10_000,
    );
    const spread = perZone(vms);
    expect(spread.az2).toBe(1);
    expect(spread.nova! + spread.az1!).toBe(5);
    expect(Math.abs(spread.nova! - spread.az1!)).toBeLessThanOrEqual(1);
    const state = parseState(await d.runtime.load('full'));
    const skipped = state.events.filter((e) => e.type === 'zone_skipped');
    expect(skipped.length).toBeGreaterThanOrEqual(1);
    expect(skipped[0]!.reason).toMatch(/^az2: no capacity/);
    expect(skipped[0]!.code).toBe('dummy_create_0002');
    // No create failed as such: each went on to another zone.
    expect(state.events.filter((e) => e.type === 'create_failed')).toEqual([]);
    // Still full: az2 stays at 1 however often its skip ends.
    for (let i = 0; i < 3; i++) await d.runOnce();
    expect(perZone(cloudVms().get('full')).az2).toBe(1);

    // Hosts are added to az2 and its skip ends: the preset moves VMs there, one at a time.
    const cloud = simulatedClouds().find((c) => c.presetSize('full') > 0)!;
    cloud.setZoneCapacity('az2', null);
    let most = 0;
    const balanced = await eventually(
      afterCycle(d, () => {
        const now = cloudVms().get('full') ?? [];
        most = Math.max(most, now.filter((v) => v.state !== 'deleting').length);
        return now.filter((v) => v.state !== 'deleting');
      }),
      (v) => running(v) === 6 && v.length === 6 && perZone(v).az2 === 2,
      15_000,
    );
    expect(perZone(balanced)).toEqual({ nova: 2, az1: 2, az2: 2 });
    expect(most).toBeLessThanOrEqual(7); // count + max_surge
  });

  it('skips a zone whose VMs the cloud fails for capacity after taking the create (Nova NoValidHost)', async () => {
    const t = await testDaemon(settings(', seed: 35, zone_capacity: {az2: 0}, no_valid_host: boot'), {
      'late.conf': presetFile('late', 'flavor: small\n'),
    });
    daemon = t.daemon;
    const d = t.daemon;
    const vms = await eventually(
      afterCycle(d, () => (cloudVms().get('late') ?? []).filter((v) => v.state !== 'deleting')),
      (v) => running(v) === 6 && v.length === 6,
      10_000,
    );
    expect(perZone(vms)).toEqual({ nova: 3, az1: 3, az2: 0 });
    const state = parseState(await d.runtime.load('late'));
    const skipped = state.events.filter((e) => e.type === 'zone_skipped');
    expect(skipped).toHaveLength(1);
    expect(skipped[0]!.reason).toMatch(/^az2: no capacity \(.*No valid host was found/);
    expect(skipped[0]!.code).toBe('dummy_create_0002');
    // The two VMs az2 failed were replaced elsewhere, and nothing more went there.
    const dead = state.events.filter((e) => e.type === 'terminated' && e.reason.startsWith('dead'));
    expect(dead).toHaveLength(2);
    const [preview] = await d.plan('late');
    expect(preview!.zones?.skipped).toEqual(['az2']);
    expect(formatPreview(preview!)).toMatch(/az2 0 \(skipped\)/);
  });

  it('falls back to the next flavor of the list when the first cannot be placed, and does not roll it', async () => {
    const t = await testDaemon(settings(', seed: 33, capacity: {big: 2}'), {
      'fb.conf': presetFile('fb', 'flavor: [big, medium]\n'),
    });
    daemon = t.daemon;
    const d = t.daemon;
    const vms = await eventually(
      afterCycle(d, () => cloudVms().get('fb')),
      (v) => running(v) === 6 && (v ?? []).length === 6,
      10_000,
    );
    expect(vms!.filter((v) => v.flavor === 'big')).toHaveLength(2);
    expect(vms!.filter((v) => v.flavor === 'medium')).toHaveLength(4);
    const state = parseState(await d.runtime.load('fb'));
    const created = state.events.filter((e) => e.type === 'created');
    expect(created.filter((e) => e.data?.flavor === 'medium').length).toBe(4);
    expect(created.some((e) => e.reason.includes('flavor medium (no capacity for big)'))).toBe(true);
    // Each zone found big full once: the later creates there went to medium at once.
    const skipped = state.events.filter((e) => e.type === 'flavor_skipped');
    expect(skipped.length).toBeGreaterThanOrEqual(1);
    expect(skipped[0]!.reason).toMatch(/^big in (nova|az1|az2): no capacity .*creates use medium/);
    expect(state.events.filter((e) => e.type === 'create_failed')).toEqual([]);
    // The fallback is not drift: more cycles change nothing.
    const ids = vms!.map((v) => v.id).sort();
    for (let i = 0; i < 3; i++) await d.runOnce();
    expect((cloudVms().get('fb') ?? []).map((v) => v.id).sort()).toEqual(ids);
    const [preview] = await d.plan('fb');
    expect(preview!.rollout.outdated).toBe(0);
    expect(preview!.vms.every((v) => !v.outdated)).toBe(true);
  });

  it('keeps a single zone and a single flavor exactly as before', async () => {
    const t = await testDaemon(settings(', seed: 34'), {
      'one.conf':
        'name: one\ncount: 2\nimage: img\nflavor: small\nmanage_interval: 0\nnetwork: {availability_zone: az1}\n',
    });
    daemon = t.daemon;
    const vms = await eventually(
      afterCycle(t.daemon, () => cloudVms().get('one')),
      (v) => running(v) === 2,
      10_000,
    );
    expect(vms!.map((v) => v.availabilityZone)).toEqual(['az1', 'az1']);
    expect(vms!.every((v) => v.metadata.vmshepherd_zone === undefined)).toBe(true);
    const [preview] = await t.daemon.plan('one');
    expect(preview!.zones).toBeUndefined();
  });
});
