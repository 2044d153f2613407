import { describe, expect, it } from 'vitest';
import { FleetHealth, fleetCountsOf, fleetGuard } from '../../src/reconcile/fleet-guard.js';
import { failing } from '../helpers/fixtures.js';

describe('fleet health', () => {
  it('sums each preset once, the latest counts winning, and gives the others of a preset', () => {
    const f = new FleetHealth();
    f.note('a', { checked: 3, failing: 1 });
    f.note('b', { checked: 5, failing: 0 });
    f.note('a', { checked: 3, failing: 3 });
    expect(f.totals()).toEqual({ checked: 8, failing: 3 });
    expect(f.others('a')).toEqual({ checked: 5, failing: 0 });
    expect(f.others('c')).toEqual({ checked: 8, failing: 3 });
    f.keepOnly(new Set(['b']));
    expect(f.totals()).toEqual({ checked: 5, failing: 0 });
    f.note('b', undefined);
    expect(f.totals()).toEqual({ checked: 0, failing: 0 });
  });

  it('counts a preset again only when its saved snapshot list is another one', () => {
    const f = new FleetHealth();
    const vms = [{ health: failing(2, 10) }];
    f.noteVms('a', vms);
    vms.push({ health: failing(1, 5) }); // not how the loop works (a list once saved never changes): a probe
    f.noteVms('a', vms);
    expect(f.totals()).toEqual({ checked: 1, failing: 1 });
    f.noteVms('a', [...vms]);
    expect(f.totals()).toEqual({ checked: 2, failing: 2 });
  });

  it('counts checked VMs (a verdict) and failing ones (a streak) among snapshots', () => {
    const healthy = { ...failing(0, 0), verdict: 'healthy' as const };
    const never = { ...failing(0, 0), verdict: null };
    expect(fleetCountsOf([{ health: healthy }, { health: failing(2, 10) }, { health: never }, {}])).toEqual({
      checked: 2,
      failing: 1,
    });
  });

  it('holds above the share, from 5 checked VMs on', () => {
    expect(fleetGuard({ checked: 6, failing: 3 }, { checked: 4, failing: 2 }, '40%')).toEqual({
      active: true,
      checked: 10,
      failing: 5,
      limit: 4,
    });
    expect(fleetGuard({ checked: 2, failing: 2 }, { checked: 2, failing: 2 }, '40%').active).toBe(false);
    expect(fleetGuard({ checked: 10, failing: 3 }, { checked: 0, failing: 0 }, 3).active).toBe(false);
  });
});
