import { describe, expect, it } from 'vitest';
import { type IaasCapability, META_PARTS, META_SPEC, type Vm } from '../../src/drivers/types.js';
import { ShepherdError } from '../../src/errors/shepherd-error.js';
import type { Preset, UpdatePolicy } from '../../src/presets/preset.js';
import { encodeParts } from '../../src/presets/spec-parts.js';
import { afterCreates, createBlock } from '../../src/reconcile/backoff.js';
import { classify } from '../../src/reconcile/classify.js';
import { type PlanContext, plan } from '../../src/reconcile/plan.js';
import type { RolloutState, VmHealth } from '../../src/reconcile/state.js';
import { failing, preset, T0, vm } from '../helpers/fixtures.js';

const OLD = 'old-spec';
const NEW = 'spec1'; // the fixture preset's specHash

const healthy = (): VmHealth => ({
  failures: 0,
  failingSince: null,
  verdict: 'healthy',
  history: 'h',
  healthySince: T0 - 600_000,
});
type VmOverrides = Partial<Vm> & { ageSeconds?: number };
/** A VM as the cloud shows one built from `p` (its fields, and the spec and fingerprints it records). */
const builtFrom = (p: Preset, o: VmOverrides = {}) =>
  vm({
    ...(p.image ? { image: p.image } : {}),
    ...(p.flavor ? { flavor: p.flavor } : {}),
    keyName: p.keyName ?? null,
    securityGroups: p.network.securityGroups,
    networks: p.network.subnets,
    ...o,
    metadata: { [META_SPEC]: p.specHash, [META_PARTS]: encodeParts(p.specParts), ...o.metadata },
  });
// The rows' presets build from img-2; outdated VMs were built from img-1.
const IMG = { image: 'img-2' };
const old = (o: VmOverrides = {}) => builtFrom(preset({ image: 'img-1', specHash: OLD }), o);
const cur = (o: VmOverrides = {}) => builtFrom(preset(IMG), o);
const withUpdate = (u: Partial<UpdatePolicy>, o: Partial<Preset> = {}) =>
  preset({
    ...IMG,
    update: { strategy: 'replace', maxSurge: 1, maxUnavailable: 0, minReadyMs: 0, ...u },
    ...o,
  });

interface Row {
  name: string;
  preset: Preset;
  vms: Vm[];
  /** Indexes of VMs whose health is not the healthy default. */
  health?: [number, VmHealth][];
  caps?: IaasCapability[];
  rollout?: RolloutState;
  expect: {
    terminate?: [number, string][];
    update?: [number, string][];
    remedy?: [number, string][];
    create: number;
    paused?: boolean;
    active?: boolean;
  };
}

function run(row: Row) {
  const health = new Map<string, VmHealth>(row.vms.map((v) => [v.id, healthy()]));
  for (const [i, h] of row.health ?? []) health.set(row.vms[i]!.id, h);
  const ctx: PlanContext = { now: T0, capabilities: new Set(row.caps ?? []), rollout: row.rollout };
  const classified = classify(row.preset, row.vms, health, T0);
  const p = plan(row.preset, classified, ctx);
  const idx = (id: string) => row.vms.findIndex((v) => v.id === id);
  const ready = new Set(classified.filter((c) => c.ready).map((c) => c.vm.id));
  return {
    p,
    readyTakenDown: [...p.terminate.filter((t) => t.class === 'outdated'), ...p.update].filter((a) =>
      ready.has(a.vmId),
    ).length,
    terminate: p.terminate.map((t) => [idx(t.vmId), t.class]),
    update: p.update.map((u) => [idx(u.vmId), u.op]),
    remedy: p.remedy.map((r) => [idx(r.vmId), r.action]),
  };
}

const rows: Row[] = [
  {
    name: 'a new spec: one surge VM first, nothing terminated while it is not ready',
    preset: withUpdate({}),
    vms: [old(), old(), old()],
    expect: { create: 1, active: true },
  },
  {
    name: 'the surge VM still booting: wait',
    preset: withUpdate({}),
    vms: [old(), old(), old(), cur({ state: 'pending', ageSeconds: 5 })],
    expect: { create: 0, active: true },
  },
  {
    name: 'the surge VM ready: one old VM goes, the next new one starts',
    preset: withUpdate({}),
    vms: [old(), old(), old(), cur()],
    expect: { terminate: [[0, 'outdated']], create: 1, active: true },
  },
  {
    name: 'max_surge 2 replaces two at a time',
    preset: withUpdate({ maxSurge: 2 }, { count: 4 }),
    vms: [old(), old(), old(), old()],
    expect: { create: 2, active: true },
  },
  {
    name: 'max_unavailable 1 without surge: one old VM goes before its replacement exists',
    preset: withUpdate({ maxSurge: 0, maxUnavailable: 1 }),
    vms: [old(), old(), old()],
    expect: { terminate: [[0, 'outdated']], create: 1, active: true },
  },
  {
    name: 'an old VM that is not ready goes first, at no cost to availability',
    preset: withUpdate({}),
    vms: [old(), old(), old({ state: 'pending', ageSeconds: 10 })],
    // its replacement and the one surge VM: 2 + 2 = count + max_surge
    expect: { terminate: [[2, 'outdated']], create: 2, active: true },
  },
  {
    name: 'min_ready: a new VM healthy for less than min_ready does not count yet',
    preset: withUpdate({ minReadyMs: 60_000 }),
    vms: [old(), old(), old(), cur()],
    health: [[3, { ...healthy(), healthySince: T0 - 30_000 }]],
    expect: { create: 0, active: true },
  },
  {
    name: 'a new VM failing its checks pauses the rollout: no more surge, no old VM terminated',
    preset: withUpdate({}, {}),
    vms: [old(), old(), old(), cur()],
    health: [[3, failing(5, 60)]],
    expect: { terminate: [[3, 'unhealthy']], create: 0, paused: true, active: true },
  },
  {
    name: 'a new VM that did not boot pauses the rollout too',
    preset: withUpdate({}),
    vms: [old(), old(), old(), cur({ state: 'error', providerStatus: 'ERROR' })],
    expect: { terminate: [[3, 'dead']], create: 0, paused: true, active: true },
  },
  {
    name: 'a paused rollout stays paused for that spec',
    preset: withUpdate({}),
    vms: [old(), old(), old()],
    rollout: { spec: NEW, paused: { reason: 'broken', at: T0 - 1000 } },
    expect: { create: 0, paused: true, active: true },
  },
  {
    name: 'a rollout paused for an older spec does not hold the new one',
    preset: withUpdate({}),
    vms: [old(), old(), old()],
    rollout: { spec: 'another', paused: { reason: 'broken', at: T0 - 1000 } },
    expect: { create: 1, active: true },
  },
  {
    name: 'on_delete leaves outdated VMs alone',
    preset: withUpdate({ strategy: 'on_delete' }),
    vms: [old(), old(), old()],
    expect: { create: 0, active: false },
  },
  {
    name: 'done: every VM current, the surplus goes',
    preset: withUpdate({}),
    vms: [
      cur({ ageSeconds: 900 }),
      cur({ ageSeconds: 800 }),
      cur({ ageSeconds: 700 }),
      cur({ ageSeconds: 10 }),
    ],
    expect: { terminate: [[3, 'surplus']], create: 0, active: false },
  },
  {
    name: 'in_place with no room: a spare VM first',
    preset: withUpdate({ strategy: 'in_place' }),
    vms: [old(), old(), old()],
    caps: ['rebuild', 'resize'],
    expect: { create: 1, active: true },
  },
  {
    name: 'in_place with the spare ready: one old VM rebuilt in place, nothing terminated',
    preset: withUpdate({ strategy: 'in_place' }),
    vms: [old(), old(), old(), cur()],
    caps: ['rebuild', 'resize', 'setMetadata'],
    expect: { update: [[0, 'rebuild']], create: 0, active: true },
  },
  {
    name: 'in_place with max_unavailable 1 needs no spare',
    preset: withUpdate({ strategy: 'in_place', maxUnavailable: 1 }),
    vms: [old(), old(), old()],
    caps: ['rebuild', 'setMetadata'],
    expect: { update: [[0, 'rebuild']], create: 0, active: true },
  },
  {
    // Seen in CI under load: with the spare ready, two VMs were rebuilt at once (5 VMs, 3 must stay ready);
    // once no VM was outdated, the spare was scaled in while both were still rebuilding: 2 running of 4.
    // Scaling in takes a ready VM only within max_unavailable, and does not skip ahead to the VMs that
    // are on their way back: the spare waits until they are.
    name: 'in_place done, two VMs still rebuilding: the spare stays until they are back',
    preset: withUpdate({ strategy: 'in_place', maxUnavailable: 1 }, { count: 4 }),
    vms: [
      cur({ ageSeconds: 600 }),
      cur({ ageSeconds: 600 }),
      cur({ state: 'unknown', providerStatus: 'REBUILD', ageSeconds: 600 }),
      cur({ state: 'unknown', providerStatus: 'REBUILD', ageSeconds: 600 }),
      cur({ ageSeconds: 60 }),
    ],
    caps: ['rebuild'],
    expect: { create: 0, active: false },
  },
  {
    name: 'in_place done and every VM back: the spare is scaled in',
    preset: withUpdate({ strategy: 'in_place', maxUnavailable: 1 }, { count: 4 }),
    vms: [
      cur({ ageSeconds: 600 }),
      cur({ ageSeconds: 600 }),
      cur({ ageSeconds: 600 }),
      cur({ ageSeconds: 600 }),
      cur({ ageSeconds: 60 }),
    ],
    caps: ['rebuild'],
    expect: { terminate: [[4, 'surplus']], create: 0, active: false },
  },
  {
    name: 'in_place on a cloud that can neither rebuild nor resize falls back to replacing',
    preset: withUpdate({ strategy: 'in_place' }),
    vms: [old(), old(), old()],
    expect: { create: 1, active: true },
  },
  {
    name: 'remedy ladder, first step: reboot',
    preset: preset({ count: 5 }, { remedies: ['reboot', 'rebuild', 'replace'] }),
    vms: [vm(), vm(), vm(), vm(), vm()],
    health: [[0, failing(5, 60)]],
    caps: ['reboot', 'rebuild'],
    expect: { remedy: [[0, 'reboot']], create: 0 },
  },
  {
    name: 'remedy ladder, second step: rebuild',
    preset: preset({ count: 5 }, { remedies: ['reboot', 'rebuild', 'replace'] }),
    vms: [vm(), vm(), vm(), vm(), vm()],
    health: [[0, { ...failing(5, 60), remedied: 1 }]],
    caps: ['reboot', 'rebuild'],
    expect: { remedy: [[0, 'rebuild']], create: 0 },
  },
  {
    name: 'remedy ladder, last step: replace',
    preset: preset({ count: 5 }, { remedies: ['reboot', 'rebuild', 'replace'] }),
    vms: [vm(), vm(), vm(), vm(), vm()],
    health: [[0, { ...failing(5, 60), remedied: 2 }]],
    caps: ['reboot', 'rebuild'],
    expect: { terminate: [[0, 'unhealthy']], create: 1 },
  },
  {
    name: 'remedy ladder on a cloud that cannot reboot: replace',
    preset: preset({ count: 5 }, { remedies: ['reboot', 'replace'] }),
    vms: [vm(), vm(), vm(), vm(), vm()],
    health: [[0, failing(5, 60)]],
    expect: { terminate: [[0, 'unhealthy']], create: 1 },
  },
];

describe('rollout and remediation plan', () => {
  it.each(rows)('$name', (row) => {
    const r = run(row);
    expect(r.terminate.sort()).toEqual([...(row.expect.terminate ?? [])].sort());
    expect(r.update).toEqual(row.expect.update ?? []);
    expect(r.remedy).toEqual(row.expect.remedy ?? []);
    expect(r.p.create).toBe(row.expect.create);
    if (row.expect.paused !== undefined) expect(r.p.rollout.paused !== null).toBe(row.expect.paused);
    if (row.expect.active !== undefined) expect(r.p.rollout.active).toBe(row.expect.active);
    // Invariants of every row: never above count + max_surge, and a rollout never takes ready VMs below
    // count - max_unavailable.
    const after = row.vms.length - r.p.terminate.length + r.p.create;
    expect(after).toBeLessThanOrEqual(r.p.ceiling);
    if (r.p.rollout.active) {
      expect(r.p.rollout.ready - r.readyTakenDown).toBeGreaterThanOrEqual(
        Math.min(r.p.rollout.minReady, r.p.rollout.ready),
      );
    }
  });
});

describe('create backoff', () => {
  const policy = { initialMs: 10_000, maxMs: 600_000, quotaWindowMs: 300_000 };
  const fail = new ShepherdError('dummy_call_2001', 'x');
  const quota = new ShepherdError('dummy_create_0001', 'x');
  const half = () => 0.5; // jitter factor 1.0

  it('waits longer after each manage whose creates all failed', () => {
    let state = {};
    const waits: number[] = [];
    for (let i = 0; i < 4; i++) {
      const r = afterCreates(state, { created: 0, failed: [fail] }, 'small', policy, T0, half);
      state = r.state;
      waits.push(r.started[0]!.until - T0);
    }
    expect(waits).toEqual([10_000, 20_000, 40_000, 80_000]);
    expect(createBlock(state, 'small', T0 + 79_000)).toMatchObject({
      key: 'class:primitive',
      code: 'dummy_call_2001',
    });
    expect(createBlock(state, 'small', T0 + 81_000)).toBeNull();
  });

  it('ignores a passing failure beside a success, and forgets after a success', () => {
    const started = afterCreates({}, { created: 2, failed: [fail] }, 'small', policy, T0, half);
    expect(started.started).toEqual([]);
    const blocked = afterCreates({}, { created: 0, failed: [fail] }, 'small', policy, T0, half).state;
    expect(
      afterCreates(blocked, { created: 1, failed: [] }, 'small', policy, T0 + 20_000, half).state,
    ).toEqual({});
  });

  it('stops a flavor for the quota window after a quota error, even beside successes', () => {
    const { state, started } = afterCreates({}, { created: 3, failed: [quota] }, 'small', policy, T0, half);
    expect(started[0]).toMatchObject({ key: 'quota:small', until: T0 + 300_000 });
    expect(createBlock(state, 'small', T0 + 1000)?.code).toBe('dummy_create_0001');
    expect(createBlock(state, 'large', T0 + 1000)).toBeNull();
  });

  it('holds the plan: no creates while a window is open', () => {
    const p = preset({ count: 3 });
    const block = {
      key: 'quota:small',
      failures: 1,
      until: T0 + 1000,
      code: 'dummy_create_0001',
      reason: 'quota',
    };
    const decided = plan(p, classify(p, [vm()], new Map(), T0), {
      now: T0,
      capabilities: new Set(),
      createBlock: block,
    });
    expect(decided.create).toBe(0);
    expect(decided.createBlocked).toMatchObject({ code: 'dummy_create_0001' });
  });
});
