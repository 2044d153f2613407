import { describe, expect, it } from 'vitest';
import { packGroup, unpackGroup } from '../../src/drivers/iaas/dummy/preset-group.js';
import type { Vm } from '../../src/drivers/types.js';

const vm = (n: number, extra: Partial<Vm> = {}): Vm => ({
  id: `id-${n}`,
  name: `web-${n}`,
  state: 'running',
  providerStatus: 'ACTIVE',
  ips: [`10.0.0.${n}`],
  createdAt: `2026-12-03T10:00:0${n}.000Z`,
  metadata: { vmshepherd_preset: 'web', vmshepherd_spec: 'abc', vmshepherd_idem: `1-${n}` },
  image: 'ubuntu',
  flavor: 'm1.small',
  ...extra,
});

/** What the daemon decodes from the line the simulator sends: through JSON, as on the wire. */
const roundTrip = (vms: Vm[]) => unpackGroup(JSON.parse(JSON.stringify(packGroup('web', vms))));

describe('packGroup and unpackGroup', () => {
  it('send what the VMs of a preset have alike once, and give back the VMs as they were', () => {
    const vms = [vm(1), vm(2), vm(3)];
    const group = packGroup('web', vms);
    expect(group.common).toEqual({
      state: 'running',
      providerStatus: 'ACTIVE',
      image: 'ubuntu',
      flavor: 'm1.small',
      metadata: { vmshepherd_preset: 'web', vmshepherd_spec: 'abc' },
    });
    expect(group.vms[0]).toEqual({
      id: 'id-1',
      name: 'web-1',
      ips: ['10.0.0.1'],
      createdAt: '2026-12-03T10:00:01.000Z',
      metadata: { vmshepherd_idem: '1-1' },
    });
    expect(roundTrip(vms)).toEqual(vms);
    expect(JSON.stringify(group).length).toBeLessThan(JSON.stringify({ preset: 'web', vms }).length * 0.75);
  });

  it('keep in each VM what differs, what only some have, and metadata none of them share', () => {
    const { image: _, ...noImage } = vm(2, { state: 'pending', providerStatus: 'BUILD' });
    const vms = [
      vm(1, { fault: 'died', timedShutdownAt: 5 }),
      noImage as Vm,
      vm(3, { metadata: { other: 'x' } }),
      vm(4, { metadata: {} }),
    ];
    const group = packGroup('web', vms);
    expect(group.common).toEqual({ flavor: 'm1.small' });
    expect(roundTrip(vms)).toEqual(vms);
  });

  it("keep the operator's metadata keys whatever their names", () => {
    const odd = (n: number, value: string) =>
      vm(n, { metadata: JSON.parse(`{"__proto__":"p","constructor":"${value}","toString":"t"}`) });
    const vms = [odd(1, 'a'), odd(2, 'b'), vm(3)];
    const back = roundTrip(vms);
    expect(back).toEqual(vms);
    expect(Object.keys(back[0]!.metadata)).toEqual(['__proto__', 'constructor', 'toString']);
    expect(back[1]!.metadata.constructor).toBe('b');
  });

  it('leave a preset of one VM, or of none, as a plain line', () => {
    expect(packGroup('web', [vm(1)])).toEqual({ preset: 'web', vms: [vm(1)] });
    expect(roundTrip([vm(1)])).toEqual([vm(1)]);
    expect(roundTrip([])).toEqual([]);
  });

  it('read a plain line (a simulator that does not pack) as it is', () => {
    expect(unpackGroup({ preset: 'web', vms: [vm(1), vm(2)] })).toEqual([vm(1), vm(2)]);
  });
});
