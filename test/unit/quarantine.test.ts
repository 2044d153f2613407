import { describe, expect, it } from 'vitest';
import { formatPreview } from '../../src/cli/commands/plan.js';
import { durationMs } from '../../src/config/duration.js';
import { healthCoreSchema } from '../../src/config/preset-schema.js';
import type { IaasCapability, Vm } from '../../src/drivers/types.js';
import { quarantinePolicyOf } from '../../src/presets/quarantine-policy.js';
import { classify } from '../../src/reconcile/classify.js';
import { stopFailures } from '../../src/reconcile/observe.js';
import { type Plan, plan } from '../../src/reconcile/plan.js';
import type { PresetPreview } from '../../src/reconcile/preview.js';
import { quarantineLine, quarantineSplit, withQuarantined } from '../../src/reconcile/quarantine.js';
import { emptyState } from '../../src/reconcile/state.js';
import { presetStatus, snapshotAfter } from '../../src/reconcile/status.js';
import type { VmLifecycle } from '../../src/reconcile/verbs.js';
import { decideVerb } from '../../src/reconcile/verbs.js';
import { failing, preset, T0, vm } from '../helpers/fixtures.js';

const HOUR = 3_600_000;
const STOP: ReadonlySet<IaasCapability> = new Set(['stop']);
const quarantined = (sinceMs: number, untilMs: number): VmLifecycle => ({
  state: 'quarantined',
  since: sinceMs,
  by: 'healthcheck',
  deleteAt: untilMs,
  reason: 'down',
});

describe('durations', () => {
  it.each([
    [90, 90_000],
    [0, 0],
    ['24h', 24 * HOUR],
    ['30m', 1_800_000],
    ['1h30m', 5_400_000],
    ['1d', 24 * HOUR],
    ['2.5s', 2500],
    ['500ms', 500],
  ] as const)('%s is %d ms', (d, ms) => expect(durationMs(d)).toBe(ms));

  it('the schema takes seconds or unit strings, and refuses the rest', () => {
    const parse = (ttl: unknown) => healthCoreSchema.safeParse({ driver: 'X', quarantine: { keep: 1, ttl } });
    for (const ok of [3600, '24h', '1h30m', '45s']) expect(parse(ok).success, String(ok)).toBe(true);
    for (const bad of ['24', 'h', '1 h', '-5m', -1, '1w'])
      expect(parse(bad).success, String(bad)).toBe(false);
    const keep = healthCoreSchema.safeParse({ driver: 'X', quarantine: { keep: -1 } });
    expect(keep.success).toBe(false);
    const typo = healthCoreSchema.safeParse({ driver: 'X', quarantine: { keep: 1, tll: '1h' } });
    expect(typo.success).toBe(false);
  });

  it('compiles to a policy; keep 0 or none is no quarantine; ttl defaults to 24h', () => {
    expect(quarantinePolicyOf({ keep: 2, ttl: '30m' })).toEqual({
      quarantine: { keep: 2, ttlMs: 1_800_000 },
    });
    expect(quarantinePolicyOf({ keep: 0, ttl: '30m' })).toEqual({});
    expect(quarantinePolicyOf(undefined)).toEqual({});
    const parsed = healthCoreSchema.parse({ driver: 'X', quarantine: { keep: 1 } });
    expect(parsed.quarantine).toEqual({ keep: 1, ttl: '24h' });
  });
});

describe('quarantineSplit', () => {
  const policy = { keep: 2, ttlMs: HOUR };
  const p = preset({ count: 4 }, { unhealthyThreshold: 1, quarantine: policy });

  interface Case {
    name: string;
    /** VMs already quarantined, then unhealthy ones replaced now. */
    held: number;
    replaced: number;
    capabilities?: ReadonlySet<IaasCapability>;
    policy?: typeof policy;
    quarantine: number;
    terminate: number;
    /** Failed stops recorded for the first unhealthy VM. */
    stopFailed?: number;
  }
  const cases: Case[] = [
    {
      name: 'a stop failed twice: tried again',
      held: 0,
      replaced: 1,
      stopFailed: 2,
      quarantine: 1,
      terminate: 0,
    },
    {
      name: 'a stop failed three times: deleted',
      held: 0,
      replaced: 1,
      stopFailed: 3,
      quarantine: 0,
      terminate: 1,
    },
    { name: 'room for both', held: 0, replaced: 2, quarantine: 2, terminate: 0 },
    { name: 'room for one', held: 1, replaced: 2, quarantine: 1, terminate: 1 },
    { name: 'full', held: 2, replaced: 1, quarantine: 0, terminate: 1 },
    { name: 'nothing replaced', held: 0, replaced: 0, quarantine: 0, terminate: 0 },
    {
      name: 'a cloud that cannot stop',
      held: 0,
      replaced: 2,
      capabilities: new Set(),
      quarantine: 0,
      terminate: 2,
    },
    { name: 'no policy', held: 0, replaced: 1, policy: undefined, quarantine: 0, terminate: 1 },
  ];
  it.each(cases)('$name', (c) => {
    const heldVms = Array.from({ length: c.held }, () => vm());
    const sick = Array.from({ length: c.replaced }, () => vm());
    const lifecycle = Object.fromEntries(heldVms.map((v) => [v.id, quarantined(T0 - 1000, T0 + HOUR)]));
    const health = new Map(sick.map((v) => [v.id, failing(3, 60)]));
    const all = classify(p, [...heldVms, ...sick], health, T0, lifecycle);
    const replaced = all.filter((v) => v.class === 'unhealthy');
    expect(replaced).toHaveLength(c.replaced);
    const failures = new Map(c.stopFailed ? [[sick[0]!.id, c.stopFailed]] : []);
    const r = quarantineSplit(
      'policy' in c ? c.policy : policy,
      all,
      replaced,
      c.capabilities ?? STOP,
      T0,
      failures,
    );
    if (c.stopFailed === 3) expect(r.notes.get(sick[0]!.id)).toMatch(/; its stop failed 3 times \(keep 2\)$/);
    expect(r.quarantine.map((q) => q.vmId)).toEqual(sick.slice(0, c.quarantine).map((v) => v.id));
    expect(r.terminate.map((v) => v.vm.id)).toEqual(sick.slice(c.quarantine).map((v) => v.id));
    for (const [i, q] of r.quarantine.entries()) {
      expect(q).toMatchObject({ until: T0 + HOUR, slot: c.held + i + 1, keep: 2 });
      expect(q.reason).toMatch(/failed checks/);
    }
  });

  it('records the quarantine in the lifecycle, beside the records kept', () => {
    const q = { vmId: 'a', reason: 'down', until: T0 + HOUR, slot: 1, keep: 1 };
    const kept = { lifecycle: { b: quarantined(0, 1) } };
    expect(withQuarantined(kept, [q], T0)).toEqual({
      lifecycle: { b: kept.lifecycle.b, a: { ...quarantined(T0, T0 + HOUR) } },
    });
    expect(withQuarantined(kept, [], T0)).toBe(kept);
    expect(quarantineLine(q)).toBe(
      `a quarantined until ${new Date(T0 + HOUR).toISOString()} (keep 1 of 1), replaced: down`,
    );
  });

  it('no verb applies to a quarantined VM (terminate is the operator’s word)', () => {
    for (const verb of ['quiesce', 'restart', 'scrub', 'restore', 'update'] as const)
      expect(() =>
        decideVerb(verb, 'quarantined', new Set(['stop', 'start', 'reboot', 'setMetadata'])),
      ).toThrow(/vm_verb_0001|quarantined/);
  });
});

describe('plan with a quarantine', () => {
  const sickPreset = (keep: number) =>
    preset({ count: 3 }, { unhealthyThreshold: 1, quarantine: { keep, ttlMs: HOUR } });
  const ctx = { now: T0, capabilities: STOP };

  function planOf(keep: number, vms: Vm[], sick: Vm[], lifecycle: Record<string, VmLifecycle> = {}) {
    const p = sickPreset(keep);
    const health = new Map(sick.map((v) => [v.id, failing(3, 60)]));
    return plan(p, classify(p, vms, health, T0, lifecycle), ctx);
  }

  it('an unhealthy VM is quarantined, not terminated, and replaced at once', () => {
    const vms = [vm(), vm(), vm()];
    const p = planOf(1, vms, [vms[1]!]);
    expect(p.quarantine.map((q) => q.vmId)).toEqual([vms[1]!.id]);
    expect(p.terminate).toEqual([]);
    expect(p.create).toBe(1);
    expect(p.serving).toBe(2);
    // Not held to the ceiling: the replacement is not kept waiting for it.
    expect(p.exempt).toBe(1);
  });

  it('an unhealthy VM whose stop failed three times (its events) is deleted and replaced as usual', () => {
    const vms = [vm(), vm(), vm()];
    const p0 = sickPreset(1);
    const failed = (n: number) => ({
      ...emptyState(),
      events: Array.from({ length: n }, () => ({
        at: new Date(T0).toISOString(),
        type: 'quarantine_failed' as const,
        vm: vms[1]!.id,
        reason: 'stop: refused',
        token: 1,
        instance: 'me',
      })),
    });
    const planAfter = (n: number) =>
      plan(p0, classify(p0, vms, new Map([[vms[1]!.id, failing(3, 60)]]), T0, {}), {
        ...ctx,
        stopFailures: stopFailures(failed(n)),
      });
    expect(planAfter(2).quarantine.map((q) => q.vmId)).toEqual([vms[1]!.id]);
    const p = planAfter(3);
    expect(p.quarantine).toEqual([]);
    expect(p.terminate.map((t) => [t.vmId, t.class])).toEqual([[vms[1]!.id, 'unhealthy']]);
    expect(p.terminate[0]!.reason).toMatch(/; its stop failed 3 times \(keep 1\)$/);
    expect(p.create).toBe(1);
  });

  it('with the quarantine full, the next unhealthy VM is replaced as usual', () => {
    const vms = [vm({ state: 'stopped' }), vm(), vm(), vm()];
    const lifecycle = { [vms[0]!.id]: quarantined(T0 - 1000, T0 + HOUR) };
    const p = planOf(1, vms, [vms[2]!], lifecycle);
    expect(p.quarantine).toEqual([]);
    expect(p.terminate.map((t) => [t.vmId, t.class])).toEqual([[vms[2]!.id, 'unhealthy']]);
    expect(p.create).toBe(1);
    expect(p.serving).toBe(2);
    expect(p.exempt).toBe(1);
  });

  it('a quarantined VM is neither counted, scaled in, checked by the guard, nor terminated before its ttl', () => {
    const vms = [vm({ state: 'stopped' }), vm(), vm(), vm()];
    const lifecycle = { [vms[0]!.id]: quarantined(T0 - 1000, T0 + HOUR) };
    const p = planOf(1, vms, [], lifecycle);
    expect(p.terminate).toEqual([]);
    expect(p.create).toBe(0);
    expect(p.serving).toBe(3);
    expect(p.guard.total).toBe(3);
  });

  it('after its ttl a quarantined VM is terminated (not replaced: it was not counted)', () => {
    const vms = [vm({ state: 'stopped' }), vm(), vm(), vm()];
    const lifecycle = { [vms[0]!.id]: quarantined(T0 - HOUR - 1, T0 - 1) };
    const p = planOf(1, vms, [], lifecycle);
    expect(p.terminate.map((t) => [t.vmId, t.class])).toEqual([[vms[0]!.id, 'quarantine_expired']]);
    expect(p.terminate[0]!.reason).toMatch(/ttl ended/);
    expect(p.create).toBe(0);
  });

  it('the mass-deletion guard still holds: with too many failing, one at a time goes to quarantine', () => {
    const vms = [vm(), vm(), vm()];
    const p = planOf(3, vms, vms);
    expect(p.guard.active).toBe(true);
    expect(p.quarantine).toHaveLength(1);
    expect(p.terminate).toEqual([]);
  });

  it('a remedy step before replace still comes first', () => {
    const p = preset(
      { count: 3 },
      { unhealthyThreshold: 1, remedies: ['reboot', 'replace'], quarantine: { keep: 1, ttlMs: HOUR } },
    );
    const vms = [vm(), vm(), vm()];
    const health = new Map([[vms[0]!.id, failing(3, 60)]]);
    const r = plan(p, classify(p, vms, health, T0), { now: T0, capabilities: new Set(['stop', 'reboot']) });
    expect(r.remedy.map((x) => x.action)).toEqual(['reboot']);
    expect(r.quarantine).toEqual([]);
  });
});

describe('plan explains the quarantine', () => {
  function text(keep: number, vms: Vm[], sick: Vm[], lifecycle: Record<string, VmLifecycle> = {}) {
    const p = preset({ count: 3 }, { unhealthyThreshold: 1, quarantine: { keep, ttlMs: HOUR } });
    const classified = classify(p, vms, new Map(sick.map((v) => [v.id, failing(3, 60)])), T0, lifecycle);
    const { zones: _z, ...r }: Plan = plan(p, classified, { now: T0, capabilities: STOP });
    const preview: PresetPreview = {
      preset: 'web',
      count: 3,
      revision: 'r1',
      unmanaged: false,
      specHash: 'spec1',
      vms: classified.map((c) => ({
        id: c.vm.id,
        name: c.vm.name,
        class: c.class,
        reason: c.reason,
        failing: c.failing,
        outdated: c.outdated,
        ready: c.ready,
      })),
      ...r,
      rollout: { ...r.rollout, strategy: 'replace' },
      waiting: [],
      locks: [],
    };
    return formatPreview(preview);
  }

  it('names the VM stopped and kept, until when, its slot, and the replacement it makes', () => {
    const vms = [vm(), vm(), vm()];
    const out = text(1, vms, [vms[0]!]);
    const until = new Date(T0 + HOUR).toISOString();
    expect(out).toContain(
      `stop and keep ${vms[0]!.id} quarantined until ${until} (keep 1 of 1), replaced: 3 failed`.replace(
        '1 failed',
        '3 failed',
      ),
    );
    expect(out).toMatch(/create 1 {2}\(2 of 3 VMs\)/);
  });

  it('names a kept VM, what it waits for, and why the next one is deleted instead', () => {
    const vms = [vm({ state: 'stopped' }), vm(), vm(), vm()];
    const lifecycle = { [vms[0]!.id]: quarantined(T0 - 1000, T0 + HOUR) };
    const out = text(1, vms, [vms[1]!], lifecycle);
    expect(out).toContain(`kept ${vms[0]!.id}  (quarantined at`);
    expect(out).toMatch(/not counted; deleted then, or by an operator's terminate\)/);
    expect(out).toMatch(
      new RegExp(`terminate ${vms[1]!.id} {2}\\(unhealthy: .*; quarantine full \\(keep 1\\)\\)`),
    );
  });
});

describe('the status with a quarantined VM', () => {
  it('is converged once the replacement runs: a kept VM neither degrades the preset nor keeps it converging', () => {
    const p = preset({ count: 2 }, { unhealthyThreshold: 1, quarantine: { keep: 1, ttlMs: HOUR } });
    const vms = [vm({ state: 'stopped' }), vm(), vm()];
    const lifecycle = { [vms[0]!.id]: quarantined(T0 - 1000, T0 + HOUR) };
    const health = new Map([[vms[0]!.id, failing(3, 60)]]);
    const classified = classify(p, vms, health, T0, lifecycle);
    const planned = plan(p, classified, { now: T0, capabilities: STOP });
    const status = presetStatus(p, planned, snapshotAfter(classified, undefined, undefined), [], false);
    expect(status).toMatchObject({ phase: 'converged', counts: { running: 2, quarantined: 1 } });
    expect(status.message).toBe('2/2 running, 1 quarantined');
  });
});
