import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon/daemon.js';
import { parseState } from '../../src/reconcile/state.js';
import { afterCycle, cloudVms, eventually, running, testDaemon } from '../helpers/daemon.js';

let daemon: Daemon | undefined;
afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
});

const settings = (iaas: string, health = 'driver: DummyHealthcheck', interval = 0.2) => `
worker_interval: ${interval}
runtime: {driver: InMemoryDriver}
presets: {driver: DirectoryDriver, path: presets}
manage: {refresh_interval: 0.2}
defaults:
  iaas:
    driver: DummyIaasDriver
${iaas.replace(/^/gm, '    ')}
  healthcheck:
${health.replace(/^/gm, '    ')}
`;

const presetFile = (name: string, count: number, extra = '') =>
  `name: ${name}\ncount: ${count}\nimage: img\nflavor: small\nmanage_interval: 0\n${extra}`;

describe('reconcile on the simulated cloud', () => {
  it('converges 50 presets at 20% errors and 200 ms latency, never above count + surge', async () => {
    const presets: Record<string, string> = {};
    for (let i = 0; i < 50; i++) presets[`p${i}.conf`] = presetFile(`p${i}`, 3);
    const t = await testDaemon(settings('latency: 0.2\nboot_time: 0.3\nerror_rate: 0.2\nseed: 11'), presets);
    daemon = t.daemon;
    let worst = 0;
    const sampler = setInterval(() => {
      for (const vms of cloudVms().values()) worst = Math.max(worst, vms.length);
    }, 20);
    try {
      await daemon.start();
      const allConverged = () => {
        const vms = cloudVms();
        return [...Array(50).keys()].every(
          (i) => running(vms.get(`p${i}`)) === 3 && vms.get(`p${i}`)!.length === 3,
        );
      };
      await eventually(allConverged, (ok) => ok, 60_000, 100);
      // ...and stays converged for a while, faults and all.
      for (let i = 0; i < 20; i++) {
        await new Promise((r) => setTimeout(r, 100));
        expect(allConverged()).toBe(true);
      }
    } finally {
      clearInterval(sampler);
    }
    expect(worst).toBeLessThanOrEqual(3 + 1);
    const failures = t.logs.filter((l) => l.msg === 'create failed' || l.msg === 'manage failed');
    expect(failures.length).toBeGreaterThan(0); // the faults really happened
    expect(failures.every((l) => typeof l.code === 'string')).toBe(true);
  });

  it('terminates nothing when every health check fails, and reports the fleet-wide guard per preset', async () => {
    const presets: Record<string, string> = {};
    for (let i = 0; i < 5; i++) presets[`p${i}.conf`] = presetFile(`p${i}`, 3);
    const health =
      'driver: DummyHealthcheck\nunhealthy_rate: 1\nunhealthy_threshold: 2\nterminate_heatlh_failed_delay: 0';
    const t = await testDaemon(settings('latency: 0.001\nboot_time: 0.05', health), presets);
    daemon = t.daemon;
    const d = daemon;
    await eventually(
      afterCycle(d, () => cloudVms()),
      (v) => [...v.values()].every((l) => running(l) === 3) && v.size === 5,
      10_000,
    );
    const before = [...cloudVms().values()]
      .flat()
      .map((v) => v.id)
      .sort();
    for (let i = 0; i < 6; i++) await d.runOnce();
    expect(
      [...cloudVms().values()]
        .flat()
        .map((v) => v.id)
        .sort(),
    ).toEqual(before);
    for (let i = 0; i < 5; i++) {
      const state = parseState(await d.runtime.load(`p${i}`));
      expect(state.status).toMatchObject({ phase: 'degraded', code: 'reconcile_guard_0002', guard: true });
      expect(state.events.some((e) => e.type === 'guard_on')).toBe(true);
      expect(state.events.some((e) => e.type === 'terminated')).toBe(false);
    }
    expect(t.logs.filter((l) => l.event === 'guard_on' && l.code === 'reconcile_guard_0002')).toHaveLength(5);
  });

  it('terminates nothing when half of the fleet fails at once, though each failing preset is all failing', async () => {
    const sick = 'healthcheck: {unhealthy_rate: 1}\n';
    const presets = {
      'f0.conf': presetFile('f0', 3, sick),
      'f1.conf': presetFile('f1', 3, sick),
      'h0.conf': presetFile('h0', 3),
      'h1.conf': presetFile('h1', 3),
    };
    const health = 'driver: DummyHealthcheck\nunhealthy_threshold: 2\nterminate_heatlh_failed_delay: 0';
    const t = await testDaemon(settings('latency: 0.001\nboot_time: 0.05', health), presets);
    daemon = t.daemon;
    const d = daemon;
    await eventually(
      afterCycle(d, () => cloudVms()),
      (v) => v.size === 4 && [...v.values()].every((l) => running(l) === 3),
      10_000,
    );
    for (let i = 0; i < 6; i++) await d.runOnce();
    for (const name of ['f0', 'f1']) {
      const state = parseState(await d.runtime.load(name));
      expect(state.events.some((e) => e.type === 'terminated')).toBe(false);
      expect(state.status).toMatchObject({ code: 'reconcile_guard_0002', guard: true });
    }
    const text = await d.metrics.registry.metrics();
    expect(text).toMatch(/vmshepherd_fleet_guard_active 1/);
    expect(text).toMatch(/vmshepherd_fleet_failing_vms 6/);
  });

  it('heals a preset of one whose only VM fails, while the rest of the fleet is well', async () => {
    const presets = {
      'solo.conf': presetFile('solo', 1, 'healthcheck: {unhealthy_rate: 1}\n'),
      'h0.conf': presetFile('h0', 3),
      'h1.conf': presetFile('h1', 3),
    };
    const health = 'driver: DummyHealthcheck\nunhealthy_threshold: 2\nterminate_heatlh_failed_delay: 0';
    const t = await testDaemon(settings('latency: 0.001\nboot_time: 0.05', health), presets);
    daemon = t.daemon;
    const d = daemon;
    const state = await eventually(
      async () => {
        await d.runOnce();
        return parseState(await d.runtime.load('solo'));
      },
      (s) => s.events.some((e) => e.type === 'terminated' && e.reason.startsWith('unhealthy')),
      20_000,
    );
    expect(state.events.some((e) => e.type === 'guard_on' && e.code === 'reconcile_guard_0001')).toBe(true);
    expect(state.events.filter((e) => e.type === 'created').length).toBeGreaterThanOrEqual(2);
  });

  it('replaces a VM that turns unhealthy, and nothing else', async () => {
    // Sick VMs are chosen by VM id and seed, and the ids by the cloud's options: this seed makes some of the
    // first five VMs sick with the simulated cloud's default options.
    const health =
      'driver: DummyHealthcheck\nunhealthy_rate: 0.3\nunhealthy_after: 0.3\nseed: 1\nunhealthy_threshold: 2\nterminate_heatlh_failed_delay: 0';
    const t = await testDaemon(settings('latency: 0.001\nboot_time: 0.05', health), {
      'w.conf': presetFile('w', 5),
    });
    daemon = t.daemon;
    const d = daemon;
    const state = await eventually(
      async () => {
        await d.runOnce();
        return parseState(await d.runtime.load('w'));
      },
      (s) => s.events.some((e) => e.type === 'terminated' && e.reason.startsWith('unhealthy')),
      20_000,
    );
    const unhealthyTerminations = state.events.filter((e) => e.type === 'terminated');
    expect(unhealthyTerminations.every((e) => e.reason.startsWith('unhealthy'))).toBe(true);
    expect(state.events.some((e) => e.type === 'health_failing')).toBe(true);
    await eventually(
      afterCycle(d, () => cloudVms().get('w')),
      (v) => running(v) === 5 && v!.length === 5,
      10_000,
    );
  });

  it('scales out and in when the preset file changes', async () => {
    const t = await testDaemon(settings('latency: 0.001\nboot_time: 0.05'), { 'a.conf': presetFile('a', 3) });
    daemon = t.daemon;
    const d = daemon;
    const converge = (n: number) =>
      eventually(
        afterCycle(d, () => cloudVms().get('a')),
        (v) => running(v) === n && v!.length === n,
        10_000,
      );
    const three = await converge(3);
    writeFileSync(join(t.dir, 'presets/a.conf'), presetFile('a', 5));
    await converge(5);
    writeFileSync(join(t.dir, 'presets/a.conf'), presetFile('a', 1));
    const one = await converge(1);
    // The default scale-in order removes the newest first: the survivor is one of the first three.
    expect(three!.map((v) => v.id)).toContain(one![0]!.id);
  });

  it('lists every preset with its own call when the cloud offers no account listing', async () => {
    const callsBy = async (listing: boolean) => {
      const presets: Record<string, string> = {};
      for (let i = 0; i < 4; i++) presets[`p${i}.conf`] = presetFile(`p${i}`, 1);
      const iaas = `latency: 0.001\nboot_time: 0\naccount_listing: ${listing}\naccount: listing-${listing}`;
      const t = await testDaemon(settings(iaas), presets);
      daemon = t.daemon;
      await daemon.runOnce();
      await new Promise((r) => setTimeout(r, 1100)); // the shared listing must start after the last save
      const before = await listCalls(daemon);
      await daemon.runOnce();
      const after = await listCalls(daemon);
      await daemon.stop();
      daemon = undefined;
      return { list: after.list - before.list, listAll: after.listAll - before.listAll };
    };
    expect(await callsBy(true)).toEqual({ list: 0, listAll: 1 });
    expect(await callsBy(false)).toEqual({ list: 4, listAll: 0 });
  });

  it('observes an unmanaged preset without touching it', async () => {
    const t = await testDaemon(settings('latency: 0.001\nboot_time: 0.05'), {
      'u.conf': presetFile('u', 3, 'unmanaged: true\n'),
    });
    daemon = t.daemon;
    await daemon.runOnce();
    await daemon.runOnce();
    expect(cloudVms().get('u')).toBeUndefined();
    expect(parseState(await daemon.runtime.load('u')).status?.phase).toBe('unmanaged');
  });

  it('logs one summary line per cycle and tags preset lines with the preset and instance', async () => {
    const t = await testDaemon(settings('latency: 0.001\nboot_time: 0.05'), { 'a.conf': presetFile('a', 2) });
    daemon = t.daemon;
    await daemon.runOnce();
    const cycle = t.logs.find((l) => l.msg === 'cycle')!;
    expect(cycle).toMatchObject({ managed: 1, created: 2, failed: 0, instance: daemon.instanceId });
    expect(typeof cycle.duration_ms).toBe('number');
    const created = t.logs.filter((l) => l.msg === 'created VM');
    expect(
      created.every(
        (l) => l.preset === 'a' && l.instance === daemon!.instanceId && typeof l.fence === 'number',
      ),
    ).toBe(true);
  });
});

/** Cloud list calls so far, by verb, from the daemon's metrics. */
async function listCalls(d: Daemon): Promise<{ list: number; listAll: number }> {
  const text = await d.metrics.registry.getSingleMetricAsString('vmshepherd_cloud_calls_total');
  const count = (verb: string) => Number(new RegExp(`verb="${verb}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
  return { list: count('list'), listAll: count('listAll') };
}
