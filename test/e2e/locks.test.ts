import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon/daemon.js';
import { hostOf } from '../../src/drivers/iaas/dummy/cloud.js';
import { simulatedClouds } from '../../src/drivers/iaas/dummy/driver.js';
import { locksFor } from '../../src/reconcile/lock-keys.js';
import { parseState } from '../../src/reconcile/state.js';
import { afterCycle, cloudVms, eventually, running, testDaemon } from '../helpers/daemon.js';
import { intervalsOf, overlapsOnHost } from '../helpers/timeline.js';

let daemon: Daemon | undefined;
afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
});

const settings = `
runtime: {driver: InMemoryDriver}
presets: {driver: DirectoryDriver, path: presets}
limits: {disruptions_per_host: 1}
manage: {events_kept: 1000}
defaults:
  iaas: {driver: DummyIaasDriver, latency: 0.001, boot_time: 0.1, delete_time: 0.5}
`;
const presetFile = (name: string, count: number) => `name: ${name}\ncount: ${count}\nmanage_interval: 0\n`;
const PRESETS = ['lk-a', 'lk-b'];
/** VMs of the preset the cloud does not show on their way out. */
const live = (preset: string) =>
  (cloudVms().get(preset) ?? []).filter((v) => v.state !== 'deleting' && v.state !== 'terminated');

describe('infrastructure locks on the simulated cloud', () => {
  it('two presets scaling in on one host never disrupt it twice at once, and wait visibly', async () => {
    const t = await testDaemon(settings, {
      'lk-a.conf': presetFile('lk-a', 3),
      'lk-b.conf': presetFile('lk-b', 3),
    });
    daemon = t.daemon;
    const d = t.daemon;
    await eventually(
      afterCycle(d, () => PRESETS.map((p) => running(cloudVms().get(p)))),
      (n) => n.every((x) => x === 3),
      20_000,
    );

    // Someone else (another instance's disruption) holds the only slot of the host.
    const [cloud] = simulatedClouds();
    const [need] = locksFor({ host: hostOf(undefined) }, cloud!.account, { host: 1 });
    const store = d.runtime.locks!;
    const lease = (await d.runtime.acquire('preset/lk-holder', 120_000))!;
    const owner = { instance: 'other-instance', preset: 'lk-holder', vm: 'vm-x', operation: 'reboot' };
    const held = await store.acquireLock(need!.key, 1, owner, lease, 120_000);
    expect(held).toHaveProperty('held');

    for (const p of PRESETS) writeFileSync(join(t.dir, 'presets', `${p}.conf`), presetFile(p, 1));
    await d.refreshPresets();
    const [preview] = await d.plan('lk-a');
    expect(preview!.locks).toHaveLength(2);
    expect(preview!.locks[0]!.reason).toBe(
      `waiting for lock ${need!.key} (1 at once): held by other-instance for lk-holder/vm-x (reboot)`,
    );
    await d.runCycle();
    // Deferred, not failed: every VM is still there, the waits are events and a metric.
    for (const p of PRESETS) {
      expect(live(p)).toHaveLength(3);
      const state = parseState(await d.runtime.load(p));
      const waits = state.events.filter((e) => e.type === 'lock_waiting');
      expect(waits).toHaveLength(2);
      expect(waits[0]!.reason).toContain('held by other-instance for lk-holder/vm-x (reboot)');
      expect(state.events.some((e) => e.type === 'terminate_failed' || e.type === 'manage_failed')).toBe(
        false,
      );
    }
    const metrics = await d.metrics.registry.metrics();
    expect(metrics).toMatch(/vmshepherd_lock_waiting\{level="host"\} 4/);
    expect(metrics).toMatch(/vmshepherd_lock_waits_total\{level="host"\} 4/);

    // Freed: both presets scale in, one disruption of the host at a time.
    await store.releaseLock((held as { held: Parameters<typeof store.releaseLock>[0] }).held, lease);
    await eventually(
      afterCycle(d, () => PRESETS.map((p) => live(p).length)),
      (n) => n.every((x) => x === 1),
      60_000,
    );
    const intervals = [];
    for (const p of PRESETS) intervals.push(...intervalsOf(p, parseState(await d.runtime.load(p)).events));
    expect(intervals).toHaveLength(4);
    expect(new Set(intervals.map((i) => `${i.preset} ${i.operation} ${i.host}`))).toEqual(
      new Set(PRESETS.map((p) => `${p} terminate ${hostOf(undefined)}`)),
    );
    expect(overlapsOnHost(intervals)).toEqual([]);
    // The presets contended for the host: some of their own terminations waited for each other.
    const waits = [];
    for (const p of PRESETS)
      waits.push(
        ...parseState(await d.runtime.load(p)).events.filter(
          (e) => e.type === 'lock_waiting' && !e.reason.includes('other-instance'),
        ),
      );
    expect(waits.length).toBeGreaterThan(0);
    expect(await d.metrics.registry.metrics()).toMatch(/vmshepherd_lock_waiting\{level="host"\} 0/);
  });

  it('a verb task waits for its lock as a step, and runs once the lock is free', async () => {
    const t = await testDaemon(settings, { 'lk-task.conf': presetFile('lk-task', 1) });
    daemon = t.daemon;
    const d = t.daemon;
    const [vm] = await eventually(
      afterCycle(d, () => cloudVms().get('lk-task') ?? []),
      (v) => running(v) === 1,
      20_000,
    );
    const [cloud] = simulatedClouds();
    const [need] = locksFor({ host: hostOf(undefined) }, cloud!.account, { host: 1 });
    const store = d.runtime.locks!;
    const lease = (await d.runtime.acquire('preset/lk-holder', 120_000))!;
    const owner = { instance: 'other-instance', preset: 'lk-holder', vm: 'vm-x', operation: 'resize' };
    const held = await store.acquireLock(need!.key, 1, owner, lease, 120_000);
    if (!('held' in held)) throw new Error('the test could not take the lock');

    const task = await d.requestVerb('lk-task', vm!.id, 'restart', 'ops');
    const waiting = await eventually(
      afterCycle(d, () => d.taskStore.getTask(task.id)),
      (x) => x?.steps.some((s) => s.name === 'wait for lock') === true,
      10_000,
    );
    expect(waiting!.state).toBe('running');
    expect(waiting!.steps.find((s) => s.name === 'wait for lock')!.note).toBe(
      `waiting for lock ${need!.key} (1 at once): held by other-instance for lk-holder/vm-x (resize)`,
    );
    expect(waiting!.steps.some((s) => s.name === 'reboot')).toBe(false);
    // Waiting more manages records nothing new and counts no attempt.
    for (let i = 0; i < 3; i++) await d.runCycle();
    const still = (await d.taskStore.getTask(task.id))!;
    expect(still.steps.filter((s) => s.name === 'wait for lock')).toHaveLength(1);
    expect(still.attempts).toBe(waiting!.attempts);

    await store.releaseLock(held.held, lease);
    const done = await eventually(
      afterCycle(d, () => d.taskStore.getTask(task.id)),
      (x) => x?.state === 'done' || x?.state === 'failed',
      20_000,
    );
    expect(done!.state).toBe('done');
    expect(done!.steps.filter((s) => s.name === 'reboot').map((s) => s.state)).toEqual(['started', 'done']);
    const intervals = intervalsOf('lk-task', parseState(await d.runtime.load('lk-task')).events);
    expect(intervals.map((i) => `${i.operation} ${i.vm} ${i.host}`)).toEqual([
      `reboot ${vm!.id} ${hostOf(undefined)}`,
    ]);
  });
});
