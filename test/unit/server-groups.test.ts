import { describe, expect, it } from 'vitest';
import { codeOf, faultCode } from '../../src/drivers/iaas/openstack/errors.js';
import {
  type NovaServerGroup,
  ownGroupName,
  unwantedGroups,
  wantedGroups,
} from '../../src/drivers/iaas/openstack/server-groups.js';
import { skipsCapacity } from '../../src/reconcile/capacity-skips.js';
import { pacedCreates } from '../../src/reconcile/group-pacing.js';

describe('server groups: which are wanted, which go', () => {
  it('names the owned group after the preset and policy; a group given by id is not owned', () => {
    expect(ownGroupName('web', 'anti-affinity')).toBe('vmshepherd-web-anti-affinity');
    const wanted = wantedGroups([
      { preset: 'web', serverGroup: { policy: 'anti-affinity' } },
      { preset: 'db', serverGroup: { id: 'abc' } },
      { preset: 'plain' },
    ]);
    expect([...wanted]).toEqual(['vmshepherd-web-anti-affinity']);
  });

  it('deletes only vmshepherd groups no preset wants and that have no members', () => {
    const g = (name: string, members: string[] = []): NovaServerGroup => ({ id: name, name, members });
    const groups = [
      g('vmshepherd-web-anti-affinity'), // wanted
      g('vmshepherd-web-affinity'), // the policy before: unwanted, empty
      g('vmshepherd-old-affinity', ['s1']), // a removed preset whose orphan is still in it
      g('someone-elses'), // not ours, empty
      { id: 'x', name: 'vmshepherd-gone-soft-affinity' }, // Nova left members out: none
    ];
    const { empty, held } = unwantedGroups(groups, new Set(['vmshepherd-web-anti-affinity']));
    expect(empty.map((x) => x.name)).toEqual(['vmshepherd-web-affinity', 'vmshepherd-gone-soft-affinity']);
    expect(held.map((x) => x.name)).toEqual(['vmshepherd-old-affinity']);
  });
});

describe('server groups in the loop', () => {
  const anti = { serverGroup: { policy: 'anti-affinity' as const } };
  const running = { class: 'running' as const };

  it('makes creates of a hard group one at a time, none while a VM boots or goes', () => {
    expect(pacedCreates(anti, 3, [running], 0)).toBe(1);
    expect(pacedCreates(anti, 3, [running, { class: 'pending' }], 0)).toBe(0);
    expect(pacedCreates(anti, 3, [running, { class: 'deleting' }], 0)).toBe(0);
    expect(pacedCreates(anti, 1, [running], 1)).toBe(0);
    expect(pacedCreates(anti, 0, [], 0)).toBe(0);
  });

  it('leaves soft policies, groups given by id and presets without a group unpaced', () => {
    const booting = [{ class: 'pending' as const }];
    expect(pacedCreates({ serverGroup: { policy: 'soft-anti-affinity' } }, 3, booting, 0)).toBe(3);
    expect(pacedCreates({ serverGroup: { id: 'g' } }, 3, booting, 0)).toBe(3);
    expect(pacedCreates({}, 3, booting, 0)).toBe(3);
  });

  it('skips a placement found full for a preset with a group, as for one with fallbacks', () => {
    expect(skipsCapacity({ zones: [], flavors: ['m1'] })).toBe(false);
    expect(skipsCapacity({ zones: [], flavors: ['m1'], serverGroup: { policy: 'affinity' } })).toBe(true);
    expect(skipsCapacity({ zones: ['a', 'b'], flavors: ['m1'] })).toBe(true);
  });

  it("reads Nova's exhausted retries after a violated group policy as no quota", () => {
    const fault = {
      computeFault: {
        message:
          'Exceeded maximum number of retries. Exceeded max scheduling attempts 3 for instance x. Last exception: Anti-affinity instance group policy was violated',
      },
    };
    expect(codeOf({ status: 500, body: fault })).not.toBe('openstack_create_0001');
    expect(faultCode(fault.computeFault.message)).toBe('openstack_boot_2001');
    expect(
      codeOf({ status: 403, body: { NeutronError: { message: 'Maximum number of ports exceeded' } } }),
    ).toBe('openstack_create_0001');
  });
});
