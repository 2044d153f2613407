import { describe, expect, it } from 'vitest';
import { type IaasDriver, META_SPEC, META_ZONE, type Vm } from '../../src/drivers/types.js';
import type { Preset } from '../../src/presets/preset.js';
import { encodeParts } from '../../src/presets/spec-parts.js';
import { capacityFaults, flavorsFor, fullZones, skipsAfter } from '../../src/reconcile/capacity-skips.js';
import { classify } from '../../src/reconcile/classify.js';
import { fieldStates, inPlaceWork } from '../../src/reconcile/in-place.js';
import { withFaults } from '../../src/reconcile/observe.js';
import { type PlanContext, plan } from '../../src/reconcile/plan.js';
import {
  imbalance,
  spreadScaleInOrder,
  zoneCounts,
  zoneOf,
  zonesForCreates,
} from '../../src/reconcile/zone-spread.js';
import { catalogIn, SETTINGS } from '../helpers/catalog.js';
import { preset, T0, vm } from '../helpers/fixtures.js';
import { tempDir } from '../helpers/tmp.js';

const Z = ['nova', 'az1', 'az2'];
const inZone = (zone: string, extra: Partial<Vm> & { ageSeconds?: number } = {}) =>
  vm({ availabilityZone: zone, metadata: { [META_SPEC]: 'spec1' }, ...extra });
const spreadPreset = (overrides: Partial<Preset> = {}) =>
  preset({ count: 6, zones: Z, healthcheck: null, ...overrides });

describe('zone choice (pure)', () => {
  const cases: {
    name: string;
    counts: Record<string, number>;
    skipped: string[];
    n: number;
    want: string[];
  }[] = [
    { name: 'empty: round robin in list order', counts: {}, skipped: [], n: 6, want: [...Z, ...Z] },
    {
      name: 'fills the emptiest first',
      counts: { nova: 2, az1: 0, az2: 1 },
      skipped: [],
      n: 3,
      want: ['az1', 'az1', 'az2'],
    },
    {
      name: 'a skipped zone gets nothing',
      counts: { nova: 2, az1: 2, az2: 0 },
      skipped: ['az2'],
      n: 2,
      want: ['nova', 'az1'],
    },
    {
      name: 'every zone skipped: all are candidates again',
      counts: { nova: 1, az1: 0, az2: 1 },
      skipped: Z,
      n: 1,
      want: ['az1'],
    },
    { name: 'nothing to create', counts: {}, skipped: [], n: 0, want: [] },
  ];
  for (const c of cases)
    it(c.name, () => expect(zonesForCreates(Z, c.counts, c.skipped, c.n)).toEqual(c.want));

  it('counts VMs by the zone the cloud reports, else the one they were created for', () => {
    const vms = [
      inZone('nova'),
      inZone('az1'),
      vm({ metadata: { [META_ZONE]: 'az1' } }),
      inZone('elsewhere'),
      vm(),
    ];
    expect(zoneCounts(Z, vms)).toEqual({ nova: 1, az1: 2, az2: 0 });
    expect(zoneOf(vm({ availabilityZone: 'az2', metadata: { [META_ZONE]: 'az1' } }))).toBe('az2');
  });

  it('scale-in takes from the zone with the most, in scale_in_order within it; outsiders first', () => {
    const vms = [inZone('nova'), inZone('nova'), inZone('nova'), inZone('az1'), inZone('x'), inZone('az2')];
    const order = spreadScaleInOrder(vms, (v) => v, Z).map((v) => vms.indexOf(v));
    expect(order).toEqual([4, 0, 1, 2, 3, 5]);
  });

  it('finds an uneven spread among the zones not skipped', () => {
    expect(imbalance(Z, { nova: 3, az1: 3, az2: 0 }, [])).toEqual({ from: 'nova', to: 'az2' });
    expect(imbalance(Z, { nova: 3, az1: 3, az2: 0 }, ['az2'])).toBeNull();
    expect(imbalance(Z, { nova: 3, az1: 2, az2: 2 }, [])).toBeNull();
  });
});

describe('plan with a zone spread', () => {
  const run = (p: Preset, vms: Vm[], ctx: Partial<PlanContext> = {}) =>
    plan(p, classify(p, vms, new Map(), T0), { now: T0, capabilities: new Set(), ...ctx });

  it('spreads 6 creates 2/2/2', () => {
    const out = run(spreadPreset(), []);
    expect(out.create).toBe(6);
    expect(out.zones?.creates).toEqual([...Z, ...Z]);
  });

  it('sends the creates of a skipped zone to the others', () => {
    const out = run(spreadPreset(), [inZone('nova'), inZone('az1')], {
      capacity: [{ zone: 'az2', flavor: '', until: T0 + 60_000, reason: 'NoValidHost' }],
    });
    expect(out.zones?.skipped).toEqual(['az2']);
    expect(out.zones?.creates).toEqual(['nova', 'az1', 'nova', 'az1']);
  });

  it('scales in from the zone with the most', () => {
    const vms = [inZone('nova'), inZone('nova'), inZone('nova'), inZone('az1'), inZone('az2')];
    const out = run(spreadPreset({ count: 3 }), vms);
    const zones = out.terminate.map((t) => vms.find((v) => v.id === t.vmId)?.availabilityZone);
    expect(zones).toEqual(['nova', 'nova']);
  });

  it('rebalances one VM at a time when a zone comes back, within max_surge', () => {
    const vms = [inZone('nova'), inZone('nova'), inZone('nova'), inZone('az1'), inZone('az1'), inZone('az1')];
    const out = run(spreadPreset(), vms);
    expect(out.create).toBe(1);
    expect(out.zones?.creates).toEqual(['az2']);
    expect(out.createReason).toContain('rebalance');
    expect(out.terminate).toEqual([]);
    // With no surge allowed the spread stays as it is.
    const noSurge = spreadPreset({ update: { ...spreadPreset().update, maxSurge: 0 } });
    expect(run(noSurge, vms).create).toBe(0);
    // While az2 is still skipped there is nothing to rebalance.
    const skipped = run(spreadPreset(), vms, {
      capacity: [{ zone: 'az2', flavor: '', until: T0 + 1, reason: 'full' }],
    });
    expect(skipped.create).toBe(0);
  });

  it('takes the surplus of a rebalance from the fullest zone once the new VM is ready, not before', () => {
    const old = [inZone('nova'), inZone('nova'), inZone('nova'), inZone('az1'), inZone('az1'), inZone('az1')];
    const booting = inZone('az2', { state: 'pending', ageSeconds: 5 });
    const waiting = run(spreadPreset(), [...old, booting]);
    expect(waiting.terminate).toEqual([]);
    expect(waiting.create).toBe(0);
    const ready = inZone('az2', { ageSeconds: 5 });
    const after = run(spreadPreset(), [...old, ready]);
    expect(after.terminate).toHaveLength(1);
    expect(old.slice(0, 3).map((v) => v.id)).toContain(after.terminate[0]!.vmId);
    // nova 2, az1 3, az2 1 after it: the next move starts at once, within max_surge.
    expect(after.zones?.creates).toEqual(['az2']);
  });

  it('plans no zones for a single zone or none', () => {
    expect(run(preset({ count: 2, healthcheck: null }), []).zones).toBeUndefined();
    const one = preset({
      count: 2,
      healthcheck: null,
      network: { securityGroups: [], subnets: [], availabilityZone: 'az1' },
    });
    expect(one.zones).toEqual(['az1']);
    expect(run(one, []).zones).toBeUndefined();
  });
});

describe('flavor fallbacks and zones as the spec sees them', () => {
  const p = preset({ flavor: 'big', flavors: ['big', 'medium'], zones: Z });
  it('a VM on any flavor of the list, in any zone of the spread, is at the spec', () => {
    const states = fieldStates(p, vm({ flavor: 'medium', availabilityZone: 'az2', keyName: null }));
    expect(states.flavor).toBe('same');
    expect(states.availabilityZone).toBe('same');
    const other = fieldStates(p, vm({ flavor: 'small', availabilityZone: 'az9', keyName: null }));
    expect(other.flavor).toBe('differs');
    expect(other.availabilityZone).toBe('differs');
  });

  it('an in-place rollout only records a VM whose flavor is still in the list', () => {
    const work = inPlaceWork(
      p,
      vm({
        flavor: 'medium',
        availabilityZone: 'az1',
        keyName: null,
        metadata: { vmshepherd_parts: encodeParts(p.specParts) },
      }),
      new Set(['flavor', 'image', 'keyName', 'userdata', 'securityGroups', 'networks']),
      true,
    );
    expect(work.kind).not.toBe('replace');
  });

  it('compiles the single forms to the spec hash they always had, and lists to new ones', async () => {
    const hashOf = async (text: string) => {
      const dir = tempDir({ 'presets/a.conf': `name: a\ncount: 1\nimage: img\n${text}` });
      const catalog = await catalogIn(dir, SETTINGS);
      const { problems } = await catalog.refresh();
      expect(problems).toEqual([]);
      return catalog.get('a')!;
    };
    const single = await hashOf('flavor: m1\nnetwork: {availability_zone: nova}\n');
    const listOfOne = await hashOf('flavor: [m1]\nnetwork: {availability_zone: [nova]}\n');
    expect(listOfOne.specHash).toBe(single.specHash);
    expect(single.network.availabilityZone).toBe('nova');
    expect(single.flavors).toEqual(['m1']);
    const lists = await hashOf('flavor: [m1, m2]\nnetwork: {availability_zone: [nova, az1]}\n');
    expect(lists.specHash).not.toBe(single.specHash);
    expect(lists.flavor).toBe('m1');
    expect(lists.flavors).toEqual(['m1', 'm2']);
    expect(lists.zones).toEqual(['nova', 'az1']);
    expect(lists.network.availabilityZone).toBeUndefined();
    const reordered = await hashOf('flavor: [m1, m2]\nnetwork: {availability_zone: [az1, nova]}\n');
    expect(reordered.specHash).toBe(lists.specHash); // zones are a set; flavors an order
    const flavorsReordered = await hashOf('flavor: [m2, m1]\nnetwork: {availability_zone: [nova, az1]}\n');
    expect(flavorsReordered.specHash).not.toBe(lists.specHash);
  });
});

describe('capacity skips (pure)', () => {
  const spread = { zones: Z, flavors: ['big', 'medium'] };
  const skip = (zone: string, flavor: string, until = T0 + 1000) => ({ zone, flavor, until, reason: 'full' });

  it('tries the flavors not full in a zone first, and all of them when none is left', () => {
    expect(flavorsFor(['big', 'medium'], 'az1', [skip('az1', 'big')], T0)).toEqual(['medium']);
    expect(flavorsFor(['big', 'medium'], 'az2', [skip('az1', 'big')], T0)).toEqual(['big', 'medium']);
    expect(flavorsFor(['big', 'medium'], 'az1', [skip('az1', 'big', T0 - 1)], T0)).toEqual(['big', 'medium']);
    const both = [skip('az1', 'big'), skip('az1', 'medium')];
    expect(flavorsFor(['big', 'medium'], 'az1', both, T0)).toEqual(['big', 'medium']);
    expect(fullZones(Z, ['big', 'medium'], both, T0)).toEqual(['az1']);
    expect(fullZones(Z, ['big', 'medium'], [skip('az1', 'big')], T0)).toEqual([]);
  });

  it('reads a capacity fault of a VM the cloud failed after taking its create (Nova NoValidHost)', () => {
    const failed = vm({
      state: 'error',
      flavor: 'big',
      metadata: { [META_ZONE]: 'az2' },
      fault: 'No valid host was found. There are not enough hosts available. [openstack_create_0002]',
    });
    const other = vm({ state: 'error', flavor: 'big', fault: 'boot failed [openstack_boot_2001]' });
    expect(capacityFaults(spread, [failed, other])).toEqual([
      {
        zone: 'az2',
        flavor: 'big',
        reason: expect.stringContaining('No valid host'),
        code: 'openstack_create_0002',
      },
    ]);
    // The single forms keep their behaviour: the failed VM is only replaced.
    expect(capacityFaults({ zones: ['az2'], flavors: ['big'] }, [failed])).toEqual([]);
  });

  it('skips a zone once every flavor of the list is full there, and forgets a placement that took a VM', () => {
    const found = (zone: string, flavor: string) => ({ zone, flavor, reason: 'NoValidHost', code: 'x' });
    const first = skipsAfter([], [found('az2', 'big')], [], spread, 300_000, T0);
    expect(first.zonesSkipped).toEqual([]);
    expect(first.flavorsSkipped).toEqual([found('az2', 'big')]);
    const second = skipsAfter(first.skips, [found('az2', 'medium')], [], spread, 300_000, T0 + 1);
    expect(second.zonesSkipped).toEqual(['az2']);
    expect(second.flavorsSkipped).toEqual([]);
    const placed = skipsAfter(second.skips, [], [{ zone: 'az2', flavor: 'medium' }], spread, 300_000, T0 + 2);
    expect(placed.skips.map((s) => s.flavor)).toEqual(['big']);
    expect(skipsAfter(second.skips, [], [], spread, 300_000, T0 + 400_000).skips).toEqual([]);
  });

  it('holds creates while every flavor is full in every zone, until the first skip ends', () => {
    const p = spreadPreset({ flavor: 'big', flavors: ['big', 'medium'] });
    const capacity = Z.flatMap((z) => [skip(z, 'big', T0 + 5000), skip(z, 'medium', T0 + 9000)]);
    const out = plan(p, [], { now: T0, capabilities: new Set(), capacity });
    expect(out.create).toBe(0);
    expect(out.createBlocked?.until).toBe(T0 + 5000);
    const some = plan(p, [], { now: T0, capabilities: new Set(), capacity: capacity.slice(2) });
    expect(some.create).toBe(6);
    // Only nova has room: every create goes there; az1 and az2 are skipped.
    expect(some.zones?.skipped).toEqual(['az1', 'az2']);
    expect(some.zones?.creates).toEqual(Array(6).fill('nova'));
  });
});

describe('faults the listing left out', () => {
  it('reads the fault of a failed VM with one get, only for a preset with fallbacks', async () => {
    const failed = vm({ state: 'error' });
    const fine = vm();
    const gets: string[] = [];
    const cloud = {
      get: async (id: string) => {
        gets.push(id);
        return { ...failed, fault: 'No valid host was found. [openstack_create_0002]' };
      },
    } as unknown as IaasDriver;
    const signal = new AbortController().signal;
    const single = await withFaults(preset(), [failed, fine], cloud, signal);
    expect(single[0]!.fault).toBeUndefined();
    expect(gets).toEqual([]);
    const listed = await withFaults(
      preset({ flavor: 'a', flavors: ['a', 'b'] }),
      [failed, fine],
      cloud,
      signal,
    );
    expect(listed[0]!.fault).toContain('No valid host');
    expect(listed[1]).toBe(fine);
    expect(gets).toEqual([failed.id]);
  });
});
