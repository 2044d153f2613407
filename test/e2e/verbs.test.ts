import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon/daemon.js';
import { ORPHAN_TASK_GRACE_MS } from '../../src/daemon/orphan-tasks.js';
import type { Task } from '../../src/daemon/tasks.js';
import { parseState } from '../../src/reconcile/state.js';
import { systemClock } from '../../src/util/clock.js';
import {
  afterCycle,
  cloudVms,
  daemonIn,
  eventually,
  running,
  taskEnded,
  testDaemon,
} from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';

let daemon: Daemon | undefined;
afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
});

const settings = (iaas = 'DummyIaasDriver, latency: 0.001, boot_time: 0.05') => `
runtime: {driver: InMemoryDriver}
presets: {driver: DirectoryDriver, path: presets}
defaults:
  iaas: {driver: ${iaas}}
  healthcheck: {driver: DummyHealthcheck}
`;

async function converged(extra = '') {
  const t = await testDaemon(settings(), {
    'web.conf': `name: web\ncount: 3\nimage: img-1\nmanage_interval: 0\n${extra}`,
    'db.conf': 'name: db\ncount: 1\nimage: img-1\nmanage_interval: 0\n',
  });
  daemon = t.daemon;
  const d = t.daemon;
  await eventually(
    afterCycle(d, () => cloudVms()),
    (m) => running(m.get('web')) === 3 && running(m.get('db')) === 1,
    10_000,
  );
  await d.runCycle();
  return d;
}

function finished(d: Daemon, task: Task): Promise<Task> {
  return taskEnded(d, task.id);
}

/** A task that may wait for the disruption budget: cycles run until it ends. */
async function finishedAcrossCycles(d: Daemon, task: Task): Promise<Task> {
  return eventually(
    afterCycle(d, async () => (await d.taskStore.getTask(task.id))!),
    (t) => t.state === 'done' || t.state === 'failed',
    10_000,
  );
}

describe('verbs on VMs', () => {
  it('quiesce stops a VM and keeps it counted; restart brings it back', async () => {
    const d = await converged();
    const [vm] = cloudVms().get('web')!;
    const task = await d.requestVerb('web', vm!.id, 'quiesce', 'ops');
    expect(task.state).toBe('queued'); // the caller never waits on the cloud
    expect((await finished(d, task)).state).toBe('done');
    for (let i = 0; i < 3; i++) await d.runCycle();
    const web = cloudVms().get('web')!;
    expect(web).toHaveLength(3); // not replaced
    expect(web.find((v) => v.id === vm!.id)?.state).toBe('stopped');
    const state = parseState(await d.runtime.load('web'));
    expect(state.vms.find((v) => v.id === vm!.id)?.state).toBe('quiesced');
    expect(
      state.events.some((e) => e.type === 'verb' && e.reason.startsWith('quiesce by ops: active → quiesced')),
    ).toBe(true);
    await finished(d, await d.requestVerb('web', vm!.id, 'restart', 'ops'));
    await eventually(
      afterCycle(d, () => cloudVms().get('web')),
      (v) => running(v) === 3,
      5000,
    );
  });

  it('scrub stops a VM, starts its replacement, and deletes it after the grace; restore brings one back', async () => {
    const d = await converged('scrub_grace: 8\n');
    const [a, b] = cloudVms().get('web')!;
    await finished(d, await d.requestVerb('web', a!.id, 'scrub', 'ops'));
    // The second scrub waits for the disruption budget: a's replacement must be ready first.
    const second = await d.requestVerb('web', b!.id, 'scrub', 'ops');
    expect((await finishedAcrossCycles(d, second)).state).toBe('done');
    const waits = parseState(await d.runtime.load('web')).events.filter(
      (e) => e.type === 'verb_waiting' && e.vm === b!.id,
    );
    expect(waits[0]?.reason).toMatch(/^scrub by ops waiting for disruption budget: 1 of 0 unavailable/);
    await eventually(
      afterCycle(d, () => cloudVms().get('web')),
      (v) => running(v) === 3,
      5000,
    ); // replacements
    expect(
      cloudVms()
        .get('web')!
        .map((v) => v.id),
    ).toEqual(expect.arrayContaining([a!.id, b!.id])); // still there

    await finished(d, await d.requestVerb('web', b!.id, 'restore', 'ops'));
    await new Promise((r) => setTimeout(r, 8100));
    const web = await eventually(
      afterCycle(d, () => cloudVms().get('web')!),
      (v) => v.length === 3 && running(v) === 3,
      5000,
    );
    const ids = web.map((v) => v.id);
    expect(ids).not.toContain(a!.id); // deleted when its grace ended
    expect(ids).toContain(b!.id); // restored, and the surplus replacement went instead
    const events = parseState(await d.runtime.load('web')).events.map(
      (e) => `${e.type}:${e.vm === a!.id ? 'a' : e.vm === b!.id ? 'b' : '-'}`,
    );
    expect(events).toContain('terminated:a');
  });

  it('refuses illegal, unknown and foreign requests at once, with their codes', async () => {
    const d = await converged();
    const [vm] = cloudVms().get('web')!;
    const [dbVm] = cloudVms().get('db')!;
    await expect(d.requestVerb('web', vm!.id, 'restore', 'ops')).rejects.toMatchObject({
      code: 'vm_verb_0001',
    });
    await expect(d.requestVerb('web', dbVm!.id, 'quiesce', 'ops')).rejects.toMatchObject({
      code: 'vm_verb_0002',
    });
    await expect(d.requestVerb('web', 'nope', 'quiesce', 'ops')).rejects.toMatchObject({
      code: 'vm_verb_0002',
    });
    await expect(d.requestVerb('nope', vm!.id, 'quiesce', 'ops')).rejects.toMatchObject({
      code: 'cli_preset_1001',
    });
  });

  it('updates a VM in place to the current spec', async () => {
    const d = await converged('update: {strategy: on_delete}\n');
    const { writeFileSync } = await import('node:fs');
    const t = d.config.baseDir;
    writeFileSync(
      `${t}/presets/web.conf`,
      'name: web\ncount: 3\nimage: img-2\nmanage_interval: 0\nupdate: {strategy: on_delete}\n',
    );
    await d.refreshPresets();
    const [vm] = cloudVms().get('web')!;
    expect((await finished(d, await d.requestVerb('web', vm!.id, 'update', 'ops'))).state).toBe('done');
    expect(
      cloudVms()
        .get('web')!
        .find((v) => v.id === vm!.id)?.image,
    ).toBe('img-2');
  });

  it('reports a verb the driver cannot do as not implemented', async () => {
    const t = await testDaemon(settings('FixtureCloudDriver, region: verbs'), {
      'web.conf': 'name: web\ncount: 1\nimage: img-1\nmanage_interval: 0\n',
    });
    daemon = t.daemon;
    await t.daemon.runOnce();
    const vm = parseState(await t.daemon.runtime.load('web')).vms[0]!;
    await expect(t.daemon.requestVerb('web', vm.id, 'quiesce', 'ops')).rejects.toMatchObject({
      code: 'iaas_verb_1001',
    });
  });

  it('skips a step the cloud already shows done, and fails a task at its step with the code', async () => {
    const d = await converged();
    const [vm, other] = cloudVms().get('web')!;
    // Stopped behind vmshepherd's back: the quiesce's stop finds it stopped and only records it.
    const { simulatedClouds } = await import('../../src/drivers/iaas/dummy/driver.js');
    const cloud = simulatedClouds()[0]!;
    await cloud.stop(vm!.id);
    const quiesced = await finished(d, await d.requestVerb('web', vm!.id, 'quiesce', 'ops'));
    expect(quiesced.state).toBe('done');
    expect(quiesced.steps.filter((s) => s.state !== 'started').map((s) => `${s.name}:${s.state}`)).toEqual([
      'check:done',
      'stop:skipped',
      'wait stopped:done',
      'record:done',
    ]);
    expect(parseState(await d.runtime.load('web')).lifecycle?.[vm!.id]?.state).toBe('quiesced');
    // Gone behind its back after the request: the task fails at its check, with the code.
    const task = await d.requestVerb('web', other!.id, 'restart', 'ops');
    await cloud.terminate(other!.id);
    expect(await finished(d, task)).toMatchObject({
      state: 'failed',
      error: { code: 'vm_verb_0002', step: 'check' },
    });
  });

  it('resumes a task whose executor died in its stop, from that step, without stopping the VM again', async () => {
    const d = await converged('scrub_grace: 60\n');
    const [vm] = cloudVms().get('web')!;
    const { simulatedClouds } = await import('../../src/drivers/iaas/dummy/driver.js');
    const cloud = simulatedClouds()[0]!;
    const task = await d.requestVerb('web', vm!.id, 'scrub', 'ops');
    // An executor that checked, recorded its stop as started, sent it, and died: its lease just ended.
    const lease = (await d.runtime.acquire('preset/web', 60_000))!;
    const at = new Date().toISOString();
    const ghost = { at, instance: 'ghost', token: lease.token };
    await d.taskStore.updateTask(
      {
        ...task,
        state: 'running',
        startedAt: at,
        executor: 'ghost',
        attempts: 1,
        data: { from: 'active', to: 'scrubbing', op: 'stop' },
        steps: [
          { name: 'check', state: 'started', ...ghost },
          { name: 'check', state: 'done', ...ghost },
          { name: 'stop', state: 'started', ...ghost },
        ],
      },
      lease,
    );
    await cloud.stop(vm!.id);
    await d.runtime.release(lease);
    const stops = cloud.callCount('stop');
    const done = await finished(d, task);
    expect(done).toMatchObject({ state: 'done', attempts: 2, executor: d.instanceId });
    expect(
      done.steps
        .filter((s) => s.instance === d.instanceId && s.state !== 'started')
        .map((s) => `${s.name}:${s.state}`),
    ).toEqual(['stop:skipped', 'wait stopped:done', 'record:done']);
    expect(cloud.callCount('stop')).toBe(stops);
    expect(parseState(await d.runtime.load('web')).lifecycle?.[vm!.id]?.state).toBe('scrubbing');
  });

  it('records a scrub whose VM did not show stopped in time, so no manage takes it for a dead VM', async () => {
    const t = await testDaemon(
      `${settings('DummyIaasDriver, latency: 0.001, boot_time: 0.05, stop_time: 4')}tasks: {stop_timeout: 1}\n`,
      { 'web.conf': 'name: web\ncount: 2\nimage: img-1\nmanage_interval: 0\nscrub_grace: 600\n' },
    );
    daemon = t.daemon;
    const d = t.daemon;
    await eventually(
      afterCycle(d, () => cloudVms()),
      (m) => running(m.get('web')) === 2,
      10_000,
    );
    const [vm] = cloudVms().get('web')!;
    const task = await finishedAcrossCycles(d, await d.requestVerb('web', vm!.id, 'scrub', 'ops'));
    expect(task).toMatchObject({ state: 'failed', error: { code: 'vm_verb_2002', step: 'wait stopped' } });
    expect(parseState(await d.runtime.load('web')).lifecycle?.[vm!.id]?.state).toBe('scrubbing');
    // The cloud shows it stopped later: it stays, scrubbing out of the count, and a replacement serves.
    const web = await eventually(
      afterCycle(d, () => cloudVms().get('web')!),
      (v) => v.find((x) => x.id === vm!.id)?.state === 'stopped' && running(v) === 2,
      15_000,
    );
    for (let i = 0; i < 3; i++) await d.runCycle();
    expect(
      cloudVms()
        .get('web')!
        .map((v) => v.id),
    ).toEqual(expect.arrayContaining(web.map((v) => v.id)));
  });

  it('cancels a verb waiting for the disruption budget, and its wait no longer holds room', async () => {
    const t = await testDaemon(settings('DummyIaasDriver, latency: 0.001, boot_time: 2'), {
      'web.conf': 'name: web\ncount: 3\nimage: img-1\nmanage_interval: 0\nscrub_grace: 600\n',
    });
    daemon = t.daemon;
    const d = t.daemon;
    await eventually(
      afterCycle(d, () => cloudVms()),
      (m) => running(m.get('web')) === 3,
      10_000,
    );
    const [a, b] = cloudVms().get('web')!;
    await finishedAcrossCycles(d, await d.requestVerb('web', a!.id, 'scrub', 'ops'));
    // a's replacement boots for 2 s: b's scrub waits for it.
    const second = await d.requestVerb('web', b!.id, 'scrub', 'ops');
    await eventually(
      afterCycle(d, async () => (await d.taskStore.getTask(second.id))!),
      (task) => typeof task.data?.waiting === 'string',
      5000,
    );
    expect(parseState(await d.runtime.load('web')).waiting?.[b!.id]).toBeDefined();
    expect(await d.cancelTask(second.id, 'bob')).toMatchObject({ state: 'cancelled' });
    await d.runCycle();
    expect(parseState(await d.runtime.load('web')).waiting?.[b!.id]).toBeUndefined();
    for (let i = 0; i < 3; i++) await d.runCycle();
    expect(await d.taskStore.getTask(second.id)).toMatchObject({ state: 'cancelled' });
    expect(
      cloudVms()
        .get('web')!
        .find((v) => v.id === b!.id)?.state,
    ).toBe('running');
  });

  it('returns the task of an idempotency key used again, and cancels a queued task', async () => {
    const d = await converged();
    const [vm, other] = cloudVms().get('web')!;
    const first = await d.requestVerb('web', vm!.id, 'quiesce', 'ops', 'key-1');
    for (let i = 0; i < 9; i++)
      expect((await d.requestVerb('web', vm!.id, 'quiesce', 'ops', 'key-1')).id).toBe(first.id);
    const cancelled = await d.requestVerb('web', other!.id, 'quiesce', 'ops');
    expect(await d.cancelTask(cancelled.id, 'bob')).toMatchObject({ state: 'cancelled' });
    expect(await finished(d, first)).toMatchObject({ state: 'done' });
    // Done since: the same key still answers with it, no new task, no check against the VM's new state.
    expect((await d.requestVerb('web', vm!.id, 'quiesce', 'ops', 'key-1')).id).toBe(first.id);
    await expect(d.cancelTask(first.id, 'bob')).rejects.toMatchObject({ code: 'api_task_0002' });
    expect((await d.listTasks({ preset: 'web' })).map((t) => t.id)).toEqual([cancelled.id, first.id]);
    expect(
      cloudVms()
        .get('web')!
        .find((v) => v.id === other!.id)?.state,
    ).toBe('running');
  });
});

describe('tasks of a preset that is gone', () => {
  it('are cancelled once the preset has been missing for the grace', async () => {
    let offset = 0;
    const clock = { ...systemClock, now: () => Date.now() + offset };
    const dir = tempDir({
      'settings.yaml': settings(),
      'presets/web.conf': 'name: web\ncount: 1\nimage: img-1\nmanage_interval: 0\n',
      'presets/db.conf': 'name: db\ncount: 1\nimage: img-1\nmanage_interval: 0\n',
    });
    const { daemon: d } = await daemonIn(dir, 'settings.yaml', { clock });
    daemon = d;
    await eventually(
      afterCycle(d, () => cloudVms()),
      (m) => running(m.get('db')) === 1,
      10_000,
    );
    // Another holder of db's lease keeps its task queued; then db's file goes away.
    const lease = (await d.runtime.acquire('preset/db', 3_600_000))!;
    const [vm] = cloudVms().get('db')!;
    const task = await d.requestVerb('db', vm!.id, 'restart', 'ops');
    rmSync(join(dir, 'presets/db.conf'));
    await d.refreshPresets();
    await d.runCycle();
    expect(await d.taskStore.getTask(task.id)).toMatchObject({ state: 'queued' });
    offset = ORPHAN_TASK_GRACE_MS;
    await d.runCycle();
    const cancelled = await eventually(
      () => d.taskStore.getTask(task.id),
      (t) => t?.state === 'cancelled',
      5000,
    );
    expect(cancelled?.error?.message).toContain('preset db is gone');
    await d.runtime.release(lease);
  });
});
