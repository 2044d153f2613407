import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon/daemon.js';
import { META_SPEC } from '../../src/drivers/types.js';
import { presetSummaryOf } from '../../src/http/views.js';
import { parseState } from '../../src/reconcile/state.js';
import { afterCycle, cloudVms, eventually, running, testDaemon } from '../helpers/daemon.js';

let daemon: Daemon | undefined;
let sampler: NodeJS.Timeout | undefined;
afterEach(async () => {
  clearInterval(sampler);
  await daemon?.stop();
  daemon = undefined;
});

const COUNT = 4;
const MAX_UNAVAILABLE = 1;
const settings = `
runtime: {driver: InMemoryDriver}
presets: {driver: DirectoryDriver, path: presets}
defaults:
  iaas: {driver: DummyIaasDriver, latency: 0.001, boot_time: 0.2}
  healthcheck: {driver: DummyHealthcheck}
`;
const presetFile = (image: string) =>
  `name: web\ncount: ${COUNT}\nimage: ${image}\nmanage_interval: 0\nscrub_grace: 1\n` +
  `update: {max_surge: 1, max_unavailable: ${MAX_UNAVAILABLE}}\n`;

/** Of `count`, the VMs the cloud does not show running now. */
const unavailableInCloud = () => Math.max(0, COUNT - running(cloudVms().get('web')));

describe('one disruption budget per preset', () => {
  it('a rollout and operators’ verbs on the same preset together never exceed max_unavailable', async () => {
    const t = await testDaemon(settings, { 'web.conf': presetFile('img-1') });
    daemon = t.daemon;
    const d = t.daemon;
    await eventually(
      afterCycle(d, () => cloudVms().get('web')),
      (v) => running(v) === COUNT,
      10_000,
    );
    await d.runCycle(); // every VM checked healthy: ready

    // The cloud is sampled after every cycle and, in between, as often as the event loop lets it.
    let worst = 0;
    const sample = () => {
      worst = Math.max(worst, unavailableInCloud());
    };
    sampler = setInterval(sample, 1);

    writeFileSync(join(t.dir, 'presets/web.conf'), presetFile('img-2'));
    await d.refreshPresets();
    const spec = d.catalog.get('web')!.specHash;
    await d.runCycle(); // the rollout takes its one VM out of service
    sample();
    const outdated = cloudVms()
      .get('web')!
      .filter((v) => v.metadata[META_SPEC] !== spec && v.state === 'running');
    expect(outdated.length).toBeGreaterThanOrEqual(2);
    const [x, y] = outdated;
    const restart = await d.requestVerb('web', x!.id, 'restart', 'ops');
    const scrub = await d.requestVerb('web', y!.id, 'scrub', 'ops');

    // The budget is spent by the rollout: the verbs wait, visibly, in the state, plan and status.
    const waiting = await eventually(
      afterCycle(d, async () => parseState(await d.runtime.load('web')).waiting ?? {}),
      (w) => w[x!.id] !== undefined && w[y!.id] !== undefined,
      10_000,
    );
    expect(waiting[x!.id]).toMatchObject({ verb: 'restart', by: 'ops' });
    expect(waiting[x!.id]!.reason).toMatch(/^waiting for disruption budget: 1 of 1 unavailable \(/);
    expect(waiting[y!.id]).toMatchObject({ verb: 'scrub', by: 'ops' });
    const [preview] = await d.plan('web');
    expect(preview!.waiting.map((w) => w.vm)).toContain(x!.id);
    expect(preview!.budget.limit).toBe(MAX_UNAVAILABLE);

    const ended = async (id: string) => {
      const s = (await d.taskStore.getTask(id))?.state;
      return s === 'done' || s === 'failed';
    };
    const end = Date.now() + 60_000;
    for (;;) {
      const vms = cloudVms().get('web') ?? [];
      const rolledOut =
        vms.filter((v) => v.state === 'running' && v.metadata[META_SPEC] === spec).length === COUNT &&
        vms.every((v) => v.metadata[META_SPEC] === spec);
      if ((await ended(restart.id)) && (await ended(scrub.id)) && rolledOut) break;
      if (Date.now() > end) throw new Error(`not done in time: ${JSON.stringify(vms.map((v) => v.state))}`);
      await d.runCycle();
      sample();
      await new Promise((r) => setTimeout(r, 20));
    }
    clearInterval(sampler);

    expect(await d.taskStore.getTask(restart.id)).toMatchObject({ state: 'done' });
    expect(await d.taskStore.getTask(scrub.id)).toMatchObject({ state: 'done' });
    expect(worst).toBeLessThanOrEqual(MAX_UNAVAILABLE);
    const state = parseState(await d.runtime.load('web'));
    expect(state.events.filter((e) => e.type === 'verb_waiting').map((e) => e.vm)).toEqual(
      expect.arrayContaining([x!.id, y!.id]),
    );
    expect(state.waiting).toBeUndefined();
    const summary = presetSummaryOf(d.catalog.get('web')!, state);
    expect(summary.budget).toMatchObject({ limit: MAX_UNAVAILABLE, waiting: [] });
    expect(summary.budget?.line).toMatch(/^\d of 1 unavailable/);
  });
});
