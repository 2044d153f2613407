import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon/daemon.js';
import type { Task } from '../../src/daemon/tasks.js';
import type { OpenStackCloud } from '../../src/drivers/iaas/openstack/openstack-cloud.js';
import type { NovaServer } from '../../src/drivers/iaas/openstack/server-view.js';
import { META_SPEC } from '../../src/drivers/types.js';
import { parseState } from '../../src/reconcile/state.js';
import { taskEnded, testDaemon } from '../helpers/daemon.js';
import {
  activeServers,
  convergeServers,
  emptyProject,
  FLAVOR,
  glance,
  IMAGE,
  labCloud,
  labSettings,
  liveServers,
  NETWORK,
  stopDaemonsAfterEach,
  uploadImage,
  waitFor,
} from './lab.js';

let demoCloud: OpenStackCloud;
const daemons = stopDaemonsAfterEach();
let dir = '';
/** A second image, uploaded to Glance for the rollout. */
let image2 = '';
let image2Id = '';

beforeAll(async () => {
  demoCloud = labCloud('demo');
  image2 = `lab-image-2-${process.pid}`;
  image2Id = await uploadImage(demoCloud, image2);
});
beforeEach(async () => {
  await emptyProject(demoCloud);
});
afterAll(async () => {
  await emptyProject(demoCloud);
  if (image2Id) await glance(demoCloud, 'DELETE', `/images/${image2Id}`);
  await demoCloud.close();
});

const settings = labSettings({ defaults: '  healthcheck: {driver: DummyHealthcheck}' });
const preset = (image: string, extra = '') => `name: lab-roll
count: 3
image: ${image}
flavor: ${FLAVOR}
manage_interval: 0
network: {subnet: [${NETWORK}]}
${extra}`;

async function start(text: string): Promise<Daemon> {
  const t = await testDaemon(settings, { 'roll.conf': text });
  daemons.track(t.daemon);
  dir = t.dir;
  return t.daemon;
}

const live = () => liveServers(demoCloud, 'lab-roll');
const active = activeServers;
const converge = (d: Daemon, ok: (s: NovaServer[]) => boolean, timeoutMs?: number) =>
  convergeServers(d, demoCloud, 'lab-roll', ok, timeoutMs);

function finished(d: Daemon, task: Task): Promise<Task> {
  return taskEnded(d, task.id, 300_000);
}

describe('changing a running fleet on the OpenStack lab', () => {
  it('replaces every server one at a time when the image changes, never below count - max_unavailable active', async () => {
    const d = await start(preset(IMAGE, 'update: {max_surge: 1, max_unavailable: 0}\n'));
    const before = await converge(d, (s) => active(s).length === 3 && s.length === 3);
    writeFileSync(
      join(dir, 'presets/roll.conf'),
      preset(image2, 'update: {max_surge: 1, max_unavailable: 0}\n'),
    );
    await d.refreshPresets();
    const spec = d.catalog.get('lab-roll')?.specHash;
    let minActive = Number.POSITIVE_INFINITY;
    let maxLive = 0;
    const samples: string[] = [];
    const end = Date.now() + 150_000;
    for (;;) {
      await d.runCycle();
      const now = await live();
      minActive = Math.min(minActive, active(now).length);
      maxLive = Math.max(maxLive, now.length);
      samples.push(
        now
          .map(
            (s) =>
              `${s.id.slice(0, 6)}:${s.status}:${s['OS-EXT-STS:task_state']}:${s.metadata?.[META_SPEC] === spec ? 'new' : 'old'}`,
          )
          .join(' '),
      );
      const done =
        now.length === 3 &&
        now.every(
          (s) =>
            s.status === 'ACTIVE' &&
            s.metadata?.[META_SPEC] === spec &&
            typeof s.image === 'object' &&
            s.image?.id === image2Id,
        );
      if (done) break;
      if (Date.now() > end) throw new Error(`rollout not done: ${JSON.stringify(now.map((s) => s.status))}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(minActive, samples.join('\n')).toBeGreaterThanOrEqual(3); // count - max_unavailable (0)
    expect(maxLive, samples.join('\n')).toBeLessThanOrEqual(4); // count + max_surge (1)
    const ids = new Set(before.map((s) => s.id));
    expect((await live()).some((s) => ids.has(s.id))).toBe(false);
    await d.runCycle();
    const events = parseState(await d.runtime.load('lab-roll')).events;
    expect(events.filter((e) => e.type === 'terminated' && e.reason.startsWith('outdated'))).toHaveLength(3);
    expect(events.map((e) => e.type)).toContain('rollout_done');
  });

  it('quiesces, restarts, scrubs and restores real Nova servers', async () => {
    const d = await start(preset(IMAGE, 'scrub_grace: 20\n'));
    const [a, b] = await converge(d, (s) => active(s).length === 3 && s.length === 3);
    const status = (id: string, want: string) =>
      waitFor(
        async () => (await live()).find((s) => s.id === id)?.status,
        (s) => s === want,
        60_000,
      );

    // quiesce: stopped in Nova, kept and not replaced
    expect((await finished(d, await d.requestVerb('lab-roll', a!.id, 'quiesce', 'ops'))).state).toBe('done');
    await status(a!.id, 'SHUTOFF');
    for (let i = 0; i < 3; i++) await d.runOnce();
    expect((await live()).map((s) => s.id)).toContain(a!.id);
    expect(await live()).toHaveLength(3);
    expect((await finished(d, await d.requestVerb('lab-roll', a!.id, 'restart', 'ops'))).state).toBe('done');
    await status(a!.id, 'ACTIVE');

    // scrub: stopped, replaced; restore brings it back and the surplus goes
    expect((await finished(d, await d.requestVerb('lab-roll', b!.id, 'scrub', 'ops'))).state).toBe('done');
    await status(b!.id, 'SHUTOFF');
    await converge(d, (s) => active(s).length === 3 && s.length === 4);
    expect((await finished(d, await d.requestVerb('lab-roll', b!.id, 'restore', 'ops'))).state).toBe('done');
    const restored = await converge(d, (s) => s.length === 3 && active(s).length === 3);
    expect(restored.map((s) => s.id)).toContain(b!.id);

    // scrub without restore: deleted once the grace ends, and replaced
    await finished(d, await d.requestVerb('lab-roll', a!.id, 'scrub', 'ops'));
    const after = await converge(
      d,
      (s) => s.length === 3 && active(s).length === 3 && s.every((x) => x.id !== a!.id),
    );
    expect(after.map((s) => s.id)).toContain(b!.id);
    const events = parseState(await d.runtime.load('lab-roll')).events;
    expect(events.some((e) => e.type === 'terminated' && e.vm === a!.id)).toBe(true);
  });
});
