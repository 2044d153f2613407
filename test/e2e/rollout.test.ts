import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon/daemon.js';
import { META_SPEC } from '../../src/drivers/types.js';
import { parseState } from '../../src/reconcile/state.js';
import { afterCycle, cloudVms, eventually, running, testDaemon } from '../helpers/daemon.js';

let daemon: Daemon | undefined;
afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
});

const settings = (iaas = '', health = '') => `
runtime: {driver: InMemoryDriver}
presets: {driver: DirectoryDriver, path: presets}
defaults:
  iaas: {driver: DummyIaasDriver, latency: 0.001, boot_time: 0.2${iaas}}
  healthcheck: {driver: DummyHealthcheck${health}}
`;
const presetFile = (image: string, extra = '') =>
  `name: web\ncount: 4\nimage: ${image}\nflavor: small\nmanage_interval: 0\n${extra}`;

/** A daemon with the preset at 4 running VMs. */
async function converged(preset: string, iaas = '') {
  const t = await testDaemon(settings(iaas), { 'web.conf': preset });
  daemon = t.daemon;
  await eventually(
    afterCycle(t.daemon, () => cloudVms().get('web')),
    (v) => running(v) === 4,
    10_000,
  );
  return t;
}

/** Writes a new version of the preset and loads it. */
async function change(t: { daemon: Daemon; dir: string }, preset: string) {
  writeFileSync(join(t.dir, 'presets/web.conf'), preset);
  await t.daemon.refreshPresets();
}

/** Runs cycles until `done`, sampling the cloud after each: the least running VMs and the most VMs seen. */
async function cycleUntil(d: Daemon, done: () => boolean | Promise<boolean>, timeoutMs: number) {
  let minRunning = Number.POSITIVE_INFINITY;
  let maxVms = 0;
  const end = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > end) throw new Error('not done in time');
    await d.runCycle();
    const vms = cloudVms().get('web') ?? [];
    minRunning = Math.min(minRunning, running(vms));
    maxVms = Math.max(maxVms, vms.length);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { minRunning, maxVms };
}

describe('rolling replacement on the simulated cloud', () => {
  it('replaces every VM one at a time when the image changes, never below count running', async () => {
    const t = await converged(presetFile('img-1'));
    const d = t.daemon;
    const before = new Set(
      cloudVms()
        .get('web')!
        .map((v) => v.id),
    );
    await change(t, presetFile('img-2'));
    const spec = d.catalog.get('web')!.specHash;
    const seen = await cycleUntil(
      d,
      () => {
        const vms = cloudVms().get('web') ?? [];
        return vms.length === 4 && vms.every((v) => v.metadata[META_SPEC] === spec && v.state === 'running');
      },
      30_000,
    );
    expect(seen.minRunning).toBeGreaterThanOrEqual(4); // max_unavailable 0
    expect(seen.maxVms).toBeLessThanOrEqual(5); // count + max_surge 1
    const after = cloudVms().get('web')!;
    expect(after.every((v) => !before.has(v.id) && v.image === 'img-2')).toBe(true);
    await d.runCycle();
    const state = parseState(await d.runtime.load('web'));
    const types = state.events.map((e) => e.type);
    expect(types).toContain('rollout_started');
    expect(types).toContain('rollout_done');
    expect(
      state.events.filter((e) => e.type === 'terminated' && e.reason.startsWith('outdated')),
    ).toHaveLength(4);
    expect(state.rollout).toBeUndefined();
  });

  it('rebuilds in place when the strategy is in_place', async () => {
    const t = await testDaemon(settings(), {
      'web.conf': presetFile('img-1', 'update: {strategy: in_place, max_unavailable: 1}\n'),
    });
    daemon = t.daemon;
    const d = daemon;
    await eventually(
      afterCycle(d, () => cloudVms().get('web')),
      (v) => running(v) === 4,
      10_000,
    );
    const ids = cloudVms()
      .get('web')!
      .map((v) => v.id)
      .sort();
    writeFileSync(
      join(t.dir, 'presets/web.conf'),
      presetFile('img-2', 'update: {strategy: in_place, max_unavailable: 1}\n'),
    );
    await d.refreshPresets();
    const seen = await cycleUntil(
      d,
      () => (cloudVms().get('web') ?? []).every((v) => v.image === 'img-2' && v.state === 'running'),
      30_000,
    );
    expect(seen.minRunning).toBeGreaterThanOrEqual(3); // count - max_unavailable
    expect(
      cloudVms()
        .get('web')!
        .map((v) => v.id)
        .sort(),
    ).toEqual(ids); // the same VMs, rebuilt
    const state = parseState(await d.runtime.load('web'));
    expect(state.events.filter((e) => e.type === 'updated')).toHaveLength(4);
  });

  it('backs off when the cloud refuses the new spec, without a create storm', async () => {
    // The simulated cloud refuses images it does not know (dummy_create_0003).
    const t = await converged(presetFile('img-1'), ', images: [img-1]');
    const d = t.daemon;
    await change(t, presetFile('img-broken'));
    for (let i = 0; i < 15; i++) {
      await d.runCycle();
      await new Promise((r) => setTimeout(r, 30));
    }
    const state = parseState(await d.runtime.load('web'));
    const creates = state.events.filter((e) => e.type === 'created' || e.type === 'create_failed').length;
    expect(running(cloudVms().get('web'))).toBe(4); // the old VMs keep serving
    expect(creates - 4).toBeLessThanOrEqual(2); // a try or two, then backoff: no storm
    expect(state.status?.phase).toBe('failing');
  });

  it('pauses the rollout when VMs of the new image do not boot, and keeps the old ones serving', async () => {
    const t = await converged(presetFile('img-1'), ', broken_images: [img-bad]');
    const d = t.daemon;
    await change(t, presetFile('img-bad'));
    for (let i = 0; i < 25; i++) {
      await d.runCycle();
      await new Promise((r) => setTimeout(r, 30));
    }
    const state = parseState(await d.runtime.load('web'));
    const paused = state.events.filter((e) => e.type === 'rollout_paused');
    expect(paused).toHaveLength(1);
    expect(paused[0]!.code).toBe('reconcile_rollout_0001');
    expect(state.status).toMatchObject({ phase: 'degraded', code: 'reconcile_rollout_0001' });
    expect(state.events.filter((e) => e.type === 'created')).toHaveLength(4 + 1); // one canary, no loop
    const vms = cloudVms().get('web')!;
    expect(vms.filter((v) => v.image === 'img-1' && v.state === 'running')).toHaveLength(4);
  });
});
