import { describe, expect, it } from 'vitest';
import type { Vm } from '../../src/drivers/types.js';
import type { Preset } from '../../src/presets/preset.js';
import { classify } from '../../src/reconcile/classify.js';
import type { HealthById } from '../../src/reconcile/health.js';
import { createBudget, plan } from '../../src/reconcile/plan.js';
import type { VmHealth } from '../../src/reconcile/state.js';
import { failing, preset, T0, vm } from '../helpers/fixtures.js';

interface Case {
  name: string;
  preset: Preset;
  vms: Vm[];
  health?: HealthById;
  /** Expected: which VMs (by index in `vms`) are terminated, with which class; how many are created. */
  terminate: [number, string][];
  create: number;
  guard?: boolean;
  /** The rest of this instance's fleet (checked and failing VMs), for the fleet-wide guard. */
  fleet?: { checked: number; failing: number };
  fleetGuard?: boolean;
}

const h = (vms: Vm[], entries: [number, VmHealth][]) => new Map(entries.map(([i, v]) => [vms[i]!.id, v]));

function cases(): Case[] {
  const list: Case[] = [];
  const add = (c: Omit<Case, 'health'> & { health?: (vms: Vm[]) => HealthById }) =>
    list.push({ ...c, health: c.health?.(c.vms) ?? new Map() });

  add({
    name: 'scale out: 1 of 3 running → create 2',
    preset: preset(),
    vms: [vm()],
    terminate: [],
    create: 2,
  });
  add({ name: 'empty preset of 3 → create 3', preset: preset(), vms: [], terminate: [], create: 3 });
  add({
    name: 'converged: 3 of 3 → nothing',
    preset: preset(),
    vms: [vm(), vm(), vm()],
    terminate: [],
    create: 0,
  });
  add({
    name: 'scale in: count 2 of 4 → the 2 newest go',
    preset: preset({ count: 2 }),
    vms: [vm({ ageSeconds: 400 }), vm({ ageSeconds: 10 }), vm({ ageSeconds: 300 }), vm({ ageSeconds: 20 })],
    terminate: [
      [1, 'surplus'],
      [3, 'surplus'],
    ],
    create: 0,
  });
  add({
    name: 'scale in: oldest first when configured',
    preset: preset({ count: 2, scaleInOrder: 'oldest' }),
    vms: [vm({ ageSeconds: 400 }), vm({ ageSeconds: 10 }), vm({ ageSeconds: 300 })],
    terminate: [[0, 'surplus']],
    create: 0,
  });
  add({
    name: 'scale in: a failing VM goes before a newer healthy one',
    preset: preset({ count: 2 }),
    vms: [vm({ ageSeconds: 400 }), vm({ ageSeconds: 10 }), vm({ ageSeconds: 300 })],
    health: (v) => h(v, [[0, failing(1, 5)]]),
    terminate: [[0, 'surplus']],
    create: 0,
  });
  add({
    name: 'scale to 0 terminates every VM',
    preset: preset({ count: 0 }),
    vms: [vm(), vm({ state: 'pending', ageSeconds: 5 })],
    terminate: [
      [1, 'surplus'],
      [0, 'surplus'],
    ],
    create: 0,
  });
  add({
    name: 'dead VMs (ERROR, SHUTOFF, terminated) are terminated and replaced',
    preset: preset({ count: 3 }),
    vms: [
      vm(),
      vm({ state: 'error', providerStatus: 'ERROR' }),
      vm({ state: 'stopped' }),
      vm({ state: 'terminated' }),
    ],
    terminate: [
      [1, 'dead'],
      [2, 'dead'],
      [3, 'dead'],
    ],
    create: 2,
  });
  add({
    name: 'pending VMs count: 1 running + 2 pending of 3 → nothing',
    preset: preset(),
    vms: [vm(), vm({ state: 'pending', ageSeconds: 30 }), vm({ state: 'pending', ageSeconds: 5 })],
    terminate: [],
    create: 0,
  });
  add({
    name: 'a VM pending longer than boot_timeout is stuck: replaced',
    preset: preset({ bootTimeoutMs: 600_000 }),
    vms: [vm(), vm(), vm({ state: 'pending', ageSeconds: 601 })],
    terminate: [[2, 'stuck']],
    create: 1,
  });
  add({
    name: 'unknown state counts as alive',
    preset: preset(),
    vms: [vm(), vm(), vm({ state: 'unknown' })],
    terminate: [],
    create: 0,
  });
  add({
    name: 'health: 4 failures of threshold 5 → kept',
    preset: preset({ count: 5 }),
    vms: [vm(), vm(), vm(), vm(), vm()],
    health: (v) => h(v, [[0, failing(4, 60)]]),
    terminate: [],
    create: 0,
  });
  add({
    name: 'health: 5 failures of threshold 5 → replaced',
    preset: preset({ count: 5 }),
    vms: [vm(), vm(), vm(), vm(), vm()],
    health: (v) => h(v, [[0, failing(5, 60)]]),
    terminate: [[0, 'unhealthy']],
    create: 1,
  });
  add({
    name: 'health delay: failing 10 s of terminate_heatlh_failed_delay 30 → kept',
    preset: preset({ count: 5 }, { failedDelay: 30 }),
    vms: [vm(), vm(), vm(), vm(), vm()],
    health: (v) => h(v, [[0, failing(6, 10)]]),
    terminate: [],
    create: 0,
  });
  add({
    name: 'health delay: failing 40 s of delay 30 → replaced',
    preset: preset({ count: 5 }, { failedDelay: 30 }),
    vms: [vm(), vm(), vm(), vm(), vm()],
    health: (v) => h(v, [[0, failing(6, 40)]]),
    terminate: [[0, 'unhealthy']],
    create: 1,
  });
  add({
    name: 'delay -1 (the original default) never replaces for health',
    preset: preset({ count: 5 }, { failedDelay: -1 }),
    vms: [vm(), vm(), vm(), vm(), vm()],
    health: (v) => h(v, [[0, failing(50, 3600)]]),
    terminate: [],
    create: 0,
  });
  add({
    name: 'startup grace: a 30 s old VM with grace 60 is not replaced',
    preset: preset({ count: 5 }, { startupGrace: 60 }),
    vms: [vm({ ageSeconds: 30 }), vm(), vm(), vm(), vm()],
    health: (v) => h(v, [[0, failing(6, 25)]]),
    terminate: [],
    create: 0,
  });
  add({
    name: 'guard: 3 of 5 failing (> 40%) → replaced one at a time, the one failing longest first',
    preset: preset({ count: 5 }),
    vms: [vm(), vm(), vm(), vm(), vm()],
    health: (v) =>
      h(v, [
        [0, failing(9, 60)],
        [1, failing(9, 90)],
        [2, failing(9, 60)],
      ]),
    terminate: [[1, 'unhealthy']],
    create: 1,
    guard: true,
  });
  add({
    name: 'guard: the next one only once no replacement is booting',
    preset: preset({ count: 5 }),
    vms: [vm(), vm(), vm(), vm(), vm({ state: 'pending', ageSeconds: 10 })],
    health: (v) =>
      h(v, [
        [0, failing(9, 60)],
        [1, failing(9, 90)],
        [2, failing(9, 60)],
      ]),
    terminate: [],
    create: 0,
    guard: true,
  });
  add({
    name: 'a preset of 1 whose VM fails is healed (the guard never blocks the last one)',
    preset: preset({ count: 1 }),
    vms: [vm()],
    health: (v) => h(v, [[0, failing(9, 60)]]),
    terminate: [[0, 'unhealthy']],
    create: 1,
    guard: true,
  });
  add({
    name: 'a preset of 2, both failing: one at a time',
    preset: preset({ count: 2 }),
    vms: [vm(), vm()],
    health: (v) =>
      h(v, [
        [0, failing(9, 60)],
        [1, failing(9, 60)],
      ]),
    terminate: [[0, 'unhealthy']],
    create: 1,
    guard: true,
  });
  add({
    name: 'fleet guard: more than 40% of the instance failing → nothing terminated for health anywhere',
    preset: preset({ count: 1 }),
    vms: [vm()],
    health: (v) => h(v, [[0, failing(9, 60)]]),
    fleet: { checked: 9, failing: 4 }, // with this preset: 5 of 10 failing, 40% allows 4
    terminate: [],
    create: 0,
    fleetGuard: true,
  });
  add({
    name: 'fleet guard: 40% exactly → off',
    preset: preset({ count: 1 }),
    vms: [vm()],
    health: (v) => h(v, [[0, failing(9, 60)]]),
    fleet: { checked: 9, failing: 3 },
    terminate: [[0, 'unhealthy']],
    create: 1,
    fleetGuard: false,
  });
  add({
    name: 'fleet guard: fewer than 5 checked VMs say nothing',
    preset: preset({ count: 1 }),
    vms: [vm()],
    health: (v) => h(v, [[0, failing(9, 60)]]),
    fleet: { checked: 3, failing: 3 },
    terminate: [[0, 'unhealthy']],
    create: 1,
    fleetGuard: false,
  });
  add({
    name: 'guard: 2 of 5 failing (= 40%) → both replaced',
    preset: preset({ count: 5 }),
    vms: [vm(), vm(), vm(), vm(), vm()],
    health: (v) =>
      h(v, [
        [0, failing(9, 60)],
        [1, failing(9, 60)],
      ]),
    terminate: [
      [0, 'unhealthy'],
      [1, 'unhealthy'],
    ],
    create: 2,
    guard: false,
  });
  add({
    name: 'guard counts VMs failing below the threshold too',
    preset: preset({ count: 5 }),
    vms: [vm(), vm(), vm(), vm(), vm()],
    health: (v) =>
      h(v, [
        [0, failing(9, 60)],
        [1, failing(1, 5)],
        [2, failing(1, 5)],
      ]),
    terminate: [[0, 'unhealthy']],
    create: 1,
    guard: true,
  });
  add({
    name: 'guard: every VM failing → one replaced at a time, missing ones still created',
    preset: preset({ count: 4 }),
    vms: [vm(), vm(), vm()],
    health: (v) =>
      h(v, [
        [0, failing(9, 60)],
        [1, failing(9, 60)],
        [2, failing(9, 60)],
      ]),
    terminate: [[0, 'unhealthy']],
    create: 2,
    guard: true,
  });
  add({
    name: 'guard with max_unhealthy as a count',
    preset: preset({ count: 4 }, { maxUnhealthy: 3 }),
    vms: [vm(), vm(), vm(), vm()],
    health: (v) =>
      h(v, [
        [0, failing(9, 60)],
        [1, failing(9, 60)],
        [2, failing(9, 60)],
      ]),
    terminate: [
      [0, 'unhealthy'],
      [1, 'unhealthy'],
      [2, 'unhealthy'],
    ],
    create: 3,
    guard: false,
  });
  add({
    name: 'timed shutdown within the grace period: expiring, kept, replacement started',
    preset: preset(),
    vms: [vm(), vm(), vm({ timedShutdownAt: T0 + 60_000 })],
    terminate: [],
    create: 1,
  });
  add({
    name: 'timed shutdown passed: expired, terminated and replaced',
    preset: preset(),
    vms: [vm(), vm(), vm({ timedShutdownAt: T0 - 1000 })],
    terminate: [[2, 'expired']],
    create: 1,
  });
  add({
    name: 'timed shutdown far ahead: running',
    preset: preset(),
    vms: [vm(), vm(), vm({ timedShutdownAt: T0 + 3_600_000 })],
    terminate: [],
    create: 0,
  });
  add({
    name: 'surge: 3 expiring of 3 with max_surge 1 → one replacement at a time',
    preset: preset(),
    vms: [
      vm({ timedShutdownAt: T0 + 1000 }),
      vm({ timedShutdownAt: T0 + 1000 }),
      vm({ timedShutdownAt: T0 + 1000 }),
    ],
    terminate: [],
    create: 1,
  });
  add({
    name: 'surge as a percentage rounds up: 50% of 3 → 2',
    preset: preset({ update: { strategy: 'replace', maxSurge: '50%', maxUnavailable: 0, minReadyMs: 0 } }),
    vms: [
      vm({ timedShutdownAt: T0 + 1000 }),
      vm({ timedShutdownAt: T0 + 1000 }),
      vm({ timedShutdownAt: T0 + 1000 }),
    ],
    terminate: [],
    create: 2,
  });
  add({
    name: 'no health check: nothing is ever unhealthy',
    preset: preset({ count: 2, healthcheck: null }),
    vms: [vm(), vm()],
    terminate: [],
    create: 0,
  });
  return list;
}

describe('classify + plan', () => {
  it.each(cases())('$name', (c) => {
    const classified = classify(c.preset, c.vms, c.health ?? new Map(), T0);
    const p = plan(
      c.preset,
      classified,
      c.fleet
        ? { now: T0, capabilities: new Set(), fleet: { others: c.fleet, maxUnhealthy: '40%' } }
        : undefined,
    );
    const terminated = p.terminate.map((t) => [c.vms.findIndex((v) => v.id === t.vmId), t.class]);
    expect(terminated.sort()).toEqual([...c.terminate].sort());
    expect(p.create).toBe(c.create);
    if (c.guard !== undefined) expect(p.guard.active).toBe(c.guard);
    if (c.fleetGuard !== undefined) expect(p.guard.fleet?.active).toBe(c.fleetGuard);
    // The invariant behind every row: never more than count + max_surge VMs after the plan.
    const after = c.vms.length - p.terminate.length + p.create;
    expect(after).toBeLessThanOrEqual(p.ceiling);
  });
});

describe('createBudget', () => {
  it('lets failed terminations take room under the ceiling', () => {
    const p = preset({ count: 3 });
    const vms = [vm(), vm({ state: 'error' }), vm({ state: 'error' })];
    const decided = plan(p, classify(p, vms, new Map(), T0));
    expect(decided.create).toBe(2);
    expect(createBudget(decided, 1)).toBe(2); // both dead VMs gone: 1 + 2 = 3
    expect(createBudget(decided, 3)).toBe(1); // both terminations failed: 3 + 1 = 4 = count + surge
  });
});
