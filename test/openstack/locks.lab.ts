import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OpenStackCloud } from '../../src/drivers/iaas/openstack/openstack-cloud.js';
import { parseState } from '../../src/reconcile/state.js';
import { testDaemon } from '../helpers/daemon.js';
import { intervalsOf, overlapsOnHost } from '../helpers/timeline.js';
import {
  activeServers,
  convergeServers,
  FLAVOR,
  IMAGE,
  labCloud,
  labSettings,
  liveServers,
  NETWORK,
  removeServersOf,
  stopDaemonsAfterEach,
  waitFor,
} from './lab.js';

// Infrastructure locks against the lab: two presets pinned to az1 (one host, lab-host-2) scale in at once
// under `disruptions_per_host: 1`. Only this file's presets' servers are touched (the project is shared).
const PRESETS = ['lk-web', 'lk-api'];
const ZONE = 'az1';

let demoCloud: OpenStackCloud;
const daemons = stopDaemonsAfterEach();

const removeOurs = () => removeServersOf(demoCloud, PRESETS);

beforeAll(async () => {
  demoCloud = labCloud('demo');
  await removeOurs();
});
afterAll(async () => {
  await removeOurs();
  await demoCloud.close();
});

const settings = labSettings({ top: 'limits: {disruptions_per_host: 1}\nmanage: {events_kept: 1000}' });
const presetFile = (name: string, count: number) => `name: ${name}
count: ${count}
image: ${IMAGE}
flavor: ${FLAVOR}
manage_interval: 0
network: {subnet: [${NETWORK}], availability_zone: ${ZONE}}
`;

describe('infrastructure locks on the OpenStack lab', () => {
  it('two presets on one host never have two disruptive calls on it at once', async () => {
    const t = await testDaemon(settings, {
      'lk-web.conf': presetFile('lk-web', 3),
      'lk-api.conf': presetFile('lk-api', 3),
    });
    daemons.track(t.daemon);
    const d = t.daemon;
    const hosts = new Set<string>();
    for (const p of PRESETS) {
      const servers = await convergeServers(
        d,
        demoCloud,
        p,
        (s) => s.length === 3 && activeServers(s).length === 3,
      );
      for (const s of servers) hosts.add(s.hostId ?? '');
    }
    // Every server of both presets is on the zone's one host, as Nova names it to the project.
    expect(hosts.size).toBe(1);
    const [hostId] = [...hosts];
    expect(hostId).not.toBe('');

    for (const p of PRESETS) writeFileSync(join(t.dir, 'presets', `${p}.conf`), presetFile(p, 1));
    await d.refreshPresets();
    await waitFor(
      async () => {
        await d.runOnce();
        return Promise.all(PRESETS.map(async (p) => (await liveServers(demoCloud, p)).length));
      },
      (n) => n.every((x) => x === 1),
      120_000,
      250,
    );

    const intervals = [];
    const waits = [];
    for (const p of PRESETS) {
      const events = parseState(await d.runtime.load(p)).events;
      intervals.push(...intervalsOf(p, events));
      waits.push(...events.filter((e) => e.type === 'lock_waiting'));
    }
    // The terminations of the scale-in, each on the host Nova showed, none overlapping another. Four
    // when the project is ours alone; fewer when another suite sharing the lab deletes servers of ours
    // meanwhile (a `dead: DELETED` event), but a preset scaling in by two always makes two.
    expect(intervals.length).toBeGreaterThanOrEqual(2);
    expect(new Set(intervals.map((i) => `${i.operation} ${i.host}`))).toEqual(
      new Set([`terminate ${hostId}`]),
    );
    expect(overlapsOnHost(intervals)).toEqual([]);
    // They did contend (two terminations of one manage at least): some waited for the host's one slot,
    // and said for whom.
    expect(waits.length).toBeGreaterThan(0);
    expect(waits[0]!.reason).toMatch(
      /^terminate: waiting for lock host:.+ \(1 at once\): held by .+ for lk-/,
    );
  });
});
