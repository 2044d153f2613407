import { describe, expect, it } from 'vitest';
import { type IaasCapability, META_PARTS, META_SPEC, type Vm } from '../../src/drivers/types.js';
import type { Preset, UpdatePolicy } from '../../src/presets/preset.js';
import { encodeParts } from '../../src/presets/spec-parts.js';
import { classify } from '../../src/reconcile/classify.js';
import { budgetLine, disruptionBudget } from '../../src/reconcile/disruption-budget.js';
import { plan } from '../../src/reconcile/plan.js';
import type { VmHealth } from '../../src/reconcile/state.js';
import type { VmLifecycle } from '../../src/reconcile/verbs.js';
import { failing, preset, T0, vm } from '../helpers/fixtures.js';

const OLD = 'old-spec';
const healthy = (): VmHealth => ({
  failures: 0,
  failingSince: null,
  verdict: 'healthy',
  history: 'h',
  healthySince: T0 - 600_000,
});
type VmOverrides = Partial<Vm> & { ageSeconds?: number };
const builtFrom = (p: Preset, o: VmOverrides = {}) =>
  vm({
    ...(p.image ? { image: p.image } : {}),
    keyName: p.keyName ?? null,
    securityGroups: p.network.securityGroups,
    networks: p.network.subnets,
    ...o,
    metadata: { [META_SPEC]: p.specHash, [META_PARTS]: encodeParts(p.specParts), ...o.metadata },
  });
const IMG = { image: 'img-2' };
const old = (o: VmOverrides = {}) => builtFrom(preset({ image: 'img-1', specHash: OLD }), o);
const cur = (o: VmOverrides = {}) => builtFrom(preset(IMG), o);
const withUpdate = (u: Partial<UpdatePolicy>, o: Partial<Preset> = {}) =>
  preset({
    ...IMG,
    update: { strategy: 'replace', maxSurge: 1, maxUnavailable: 1, minReadyMs: 0, ...u },
    ...o,
  });
const quiesced: VmLifecycle = { state: 'quiesced', since: T0 - 1000, by: 'ops' };
const scrubbing: VmLifecycle = { state: 'scrubbing', since: T0 - 1000, by: 'ops', deleteAt: T0 + 60_000 };

interface Row {
  name: string;
  preset: Preset;
  vms: Vm[];
  /** Indexes of VMs whose health is not the healthy default. */
  health?: [number, VmHealth][];
  lifecycle?: [number, VmLifecycle][];
  /** Indexes of VMs this preset deleted moments ago. */
  deleting?: number[];
  /** The last verb run on a VM (from the events). */
  verbs?: [number, string][];
  expect: { unavailable: number; room: number; limit?: number; holders: string[]; missing?: number };
}

function classified(r: Row) {
  const health = new Map<string, VmHealth>(r.vms.map((v) => [v.id, healthy()]));
  for (const [i, h] of r.health ?? []) health.set(r.vms[i]!.id, h);
  const lifecycle = Object.fromEntries((r.lifecycle ?? []).map(([i, l]) => [r.vms[i]!.id, l]));
  const deleting = Object.fromEntries((r.deleting ?? []).map((i) => [r.vms[i]!.id, T0 - 1000]));
  return classify(r.preset, r.vms, health, T0, lifecycle, deleting);
}
const verbsOf = (r: Row) => new Map((r.verbs ?? []).map(([i, v]) => [r.vms[i]!.id, v]));

const ROWS: Row[] = [
  {
    name: 'steady: every VM ready, the whole budget is room',
    preset: withUpdate({}),
    vms: [cur(), cur(), cur()],
    expect: { unavailable: 0, room: 1, holders: [] },
  },
  {
    name: 'max_unavailable 0: no room until a surge VM is ready',
    preset: withUpdate({ maxUnavailable: 0 }),
    vms: [old(), old(), old(), cur({ state: 'pending', ageSeconds: 5 })],
    expect: { unavailable: 0, room: 0, limit: 0, holders: [] },
  },
  {
    name: 'max_unavailable 0: a ready surge VM is room',
    preset: withUpdate({ maxUnavailable: 0 }),
    vms: [old(), old(), old(), cur()],
    expect: { unavailable: 0, room: 1, limit: 0, holders: [] },
  },
  {
    name: 'a quiesced VM holds the budget (verb quiesce)',
    preset: withUpdate({}),
    vms: [cur(), cur(), cur({ state: 'stopped' })],
    lifecycle: [[2, quiesced]],
    expect: { unavailable: 1, room: 0, holders: ['verb quiesce: 2'] },
  },
  {
    name: 'a scrubbing VM holds the budget until its replacement is ready',
    preset: withUpdate({}),
    vms: [cur(), cur(), cur({ state: 'stopped' }), cur({ state: 'pending', ageSeconds: 5 })],
    lifecycle: [[2, scrubbing]],
    expect: { unavailable: 1, room: 0, holders: ['verb scrub: 2'] },
  },
  {
    name: '... and no longer once its replacement is ready',
    preset: withUpdate({}),
    vms: [cur(), cur(), cur({ state: 'stopped' }), cur()],
    lifecycle: [[2, scrubbing]],
    expect: { unavailable: 0, room: 1, holders: [] },
  },
  {
    name: 'a restarted VM holds the budget while it reboots',
    preset: withUpdate({ maxUnavailable: 2 }),
    vms: [cur(), cur(), cur({ state: 'unknown', providerStatus: 'REBOOT' })],
    verbs: [[2, 'restart']],
    expect: { unavailable: 1, room: 1, limit: 2, holders: ['verb restart: 2'] },
  },
  {
    name: 'an outdated VM being rebuilt in place holds it for the rollout',
    preset: withUpdate({ strategy: 'in_place' }),
    vms: [old(), cur(), old({ state: 'unknown', providerStatus: 'REBUILD' })],
    expect: { unavailable: 1, room: 0, holders: ['rollout in place: 2'] },
  },
  {
    name: 'an outdated VM being deleted holds it for the rollout, its replacement booting aside',
    preset: withUpdate({}),
    vms: [old(), old(), old({ state: 'deleting' }), cur({ state: 'pending', ageSeconds: 5 })],
    expect: { unavailable: 1, room: 0, holders: ['rollout replace: 2'] },
  },
  {
    name: 'while outdated VMs remain, a new VM booting holds the slot for the rollout',
    preset: withUpdate({}),
    vms: [old(), old(), cur({ state: 'pending', ageSeconds: 5 })],
    expect: { unavailable: 1, room: 0, holders: ['rollout new VM: 2'] },
  },
  {
    name: 'a surplus VM being deleted: scale-in',
    preset: withUpdate({ maxUnavailable: 2 }),
    vms: [cur(), cur(), cur()],
    deleting: [2],
    expect: { unavailable: 1, room: 1, limit: 2, holders: ['scale-in deleting: 2'] },
  },
  {
    name: 'an unhealthy VM: remediation; a dead one: healing',
    preset: withUpdate({ maxUnavailable: 2 }),
    vms: [cur(), cur({ state: 'error' }), cur()],
    health: [[2, failing(5, 60)]],
    expect: {
      unavailable: 2,
      room: 0,
      limit: 2,
      holders: ['remediation unhealthy, step 1: 2', 'healing dead: 1'],
    },
  },
  {
    name: 'a VM back from a remedy step, not ready yet: remediation',
    preset: withUpdate({}),
    vms: [cur(), cur(), cur({ state: 'unknown' })],
    health: [[2, { ...failing(0, 0), verdict: null, remedied: 1 }]],
    expect: { unavailable: 1, room: 0, holders: ['remediation step 1: 2'] },
  },
  {
    name: 'a rollout and a verb together: over the budget, both named, the verb first',
    preset: withUpdate({}),
    vms: [old(), old({ state: 'deleting' }), cur({ state: 'stopped' })],
    lifecycle: [[2, quiesced]],
    expect: { unavailable: 2, room: 0, holders: ['verb quiesce: 2', 'rollout replace: 1'] },
  },
  {
    name: 'a VM gone and not yet replaced is a missing slot',
    preset: withUpdate({}),
    vms: [cur(), cur()],
    expect: { unavailable: 1, room: 0, holders: [], missing: 1 },
  },
  {
    name: 'percentages resolve down against count',
    preset: withUpdate({ maxUnavailable: '50%' }, { count: 5 }),
    vms: [cur(), cur(), cur(), cur(), cur({ state: 'pending', ageSeconds: 5 })],
    expect: { unavailable: 1, room: 1, limit: 2, holders: ['booting pending: 4'] },
  },
];

describe('disruptionBudget', () => {
  it.each(ROWS)('$name', (r) => {
    const b = disruptionBudget(r.preset, classified(r), { verbs: verbsOf(r) });
    const index = new Map(r.vms.map((v, i) => [v.id, i]));
    expect({
      unavailable: b.unavailable,
      room: b.room,
      holders: b.holders.map((h) => `${h.user} ${h.what}: ${index.get(h.vm)}`),
      missing: b.missing,
      limit: b.limit,
    }).toEqual({ missing: 0, limit: 1, ...r.expect });
  });

  it('reads as plan prints it', () => {
    const r = ROWS[4]!;
    const b = disruptionBudget(r.preset, classified(r));
    expect(budgetLine(b)).toBe(`1 of 1 unavailable (verb scrub: ${r.vms[2]!.id}), room 0`);
  });
});

interface PlanRow extends Row {
  caps?: IaasCapability[];
  /** VMs an operator's verb waits to take out. */
  waiting?: number[];
  plan: { terminate?: [number, string][]; update?: [number, string][]; remedy?: [number, string][] };
}

/** Every disruptive decision of the planner draws from the one room. */
const PLAN_ROWS: PlanRow[] = [
  {
    name: 'a quiesced VM takes the room: the rollout retires nothing',
    preset: withUpdate({}),
    vms: [old(), old(), cur({ state: 'stopped' })],
    lifecycle: [[2, quiesced]],
    expect: { unavailable: 1, room: 0, holders: [] },
    plan: {},
  },
  {
    name: 'without it, the rollout retires one',
    preset: withUpdate({}),
    vms: [old(), old(), cur()],
    expect: { unavailable: 0, room: 1, holders: [] },
    plan: { terminate: [[0, 'outdated']] },
  },
  {
    name: 'a quiesced VM and a restarting one fill max_unavailable 2: nothing retired',
    preset: withUpdate({ maxUnavailable: 2 }),
    vms: [old(), cur({ state: 'stopped' }), cur({ state: 'unknown', providerStatus: 'REBOOT' })],
    lifecycle: [[1, quiesced]],
    verbs: [[2, 'restart']],
    expect: { unavailable: 2, room: 0, holders: [] },
    plan: {},
  },
  {
    name: 'a restarting VM takes the room: no in-place rebuild of a ready VM',
    preset: withUpdate({ strategy: 'in_place' }),
    vms: [old(), old(), cur({ state: 'unknown', providerStatus: 'REBOOT' })],
    verbs: [[2, 'restart']],
    caps: ['rebuild', 'setMetadata'],
    expect: { unavailable: 1, room: 0, holders: [] },
    plan: {},
  },
  {
    name: 'scale-in waits while a restarting VM holds the room (max_unavailable 0)',
    preset: withUpdate({ maxUnavailable: 0 }),
    vms: [
      cur({ state: 'unknown', providerStatus: 'REBOOT', ageSeconds: 9000 }),
      cur({ ageSeconds: 10 }),
      cur(),
      cur(),
    ],
    verbs: [[0, 'restart']],
    expect: { unavailable: 0, room: 0, holders: [] },
    plan: {},
  },
  {
    name: '... and goes on once it is back',
    preset: withUpdate({ maxUnavailable: 0 }),
    vms: [cur({ ageSeconds: 9000 }), cur({ ageSeconds: 10 }), cur(), cur()],
    expect: { unavailable: 0, room: 1, holders: [] },
    plan: { terminate: [[1, 'surplus']] },
  },
  {
    name: 'a VM a verb waits for is neither retired nor its room spent by the rollout',
    preset: withUpdate({}),
    vms: [old(), old(), cur()],
    waiting: [0],
    expect: { unavailable: 0, room: 1, holders: [] },
    plan: {},
  },
  {
    name: 'with room for both, the rollout retires another VM than the waited-for one',
    preset: withUpdate({ maxUnavailable: 2 }),
    vms: [old(), old(), cur()],
    waiting: [0],
    expect: { unavailable: 0, room: 2, holders: [] },
    plan: { terminate: [[1, 'outdated']] },
  },
  {
    name: 'remedying an unhealthy VM is not held back by a verb',
    preset: withUpdate({}, {}),
    vms: [cur(), cur({ state: 'stopped' }), cur()],
    lifecycle: [[1, quiesced]],
    health: [[2, failing(5, 60)]],
    caps: ['reboot'],
    expect: { unavailable: 2, room: 0, holders: [] },
    plan: { remedy: [[2, 'reboot']] },
  },
];

describe('plan draws from the one room', () => {
  it.each(PLAN_ROWS)('$name', (r) => {
    const p = r.preset.healthcheck
      ? {
          ...r.preset,
          healthcheck: {
            ...r.preset.healthcheck,
            policy: { ...r.preset.healthcheck.policy, remedies: ['reboot' as const, 'replace' as const] },
          },
        }
      : r.preset;
    const got = plan(p, classifiedFor(p, r), {
      now: T0,
      capabilities: new Set(r.caps ?? []),
      budgetHints: { verbs: verbsOf(r) },
      verbsWaiting: new Set((r.waiting ?? []).map((i) => r.vms[i]!.id)),
    });
    const index = new Map(r.vms.map((v, i) => [v.id, i]));
    expect({
      terminate: got.terminate.map((t) => [index.get(t.vmId), t.class]),
      update: got.update.map((u) => [index.get(u.vmId), u.op]),
      remedy: got.remedy.map((m) => [index.get(m.vmId), m.action]),
    }).toEqual({ terminate: [], update: [], remedy: [], ...r.plan });
    expect(got.budget.unavailable).toBe(r.expect.unavailable);
    expect(got.budget.room).toBe(r.expect.room);
  });
});

function classifiedFor(p: Preset, r: Row) {
  return classified({ ...r, preset: p });
}
