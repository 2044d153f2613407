import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OpenStackCloud } from '../../src/drivers/iaas/openstack/openstack-cloud.js';
import type { NovaServer } from '../../src/drivers/iaas/openstack/server-view.js';
import { META_PARTS, META_SPEC } from '../../src/drivers/types.js';
import { decodeParts } from '../../src/presets/spec-parts.js';
import { parseState } from '../../src/reconcile/state.js';
import { testDaemon } from '../helpers/daemon.js';
import {
  actions,
  activeServers,
  api,
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

// An in-place resize on the lab's hosts, end to end: resize → VERIFY_RESIZE → confirmResize, the server
// ACTIVE on the new flavor, and the spec recorded only as Nova shows it. Only this file's preset
// (`sg-resize-<pid>`) is touched (the project is shared).
const NAME = `sg-resize-${process.pid}`;
let cloud: OpenStackCloud;
const daemons = stopDaemonsAfterEach();

const removeOurs = () => removeServersOf(cloud, [NAME]);

beforeAll(async () => {
  cloud = labCloud('demo');
  await removeOurs();
});
afterAll(async () => {
  await removeOurs();
  await cloud.close();
});

const settings = labSettings();
const presetText = (flavor: string) => `name: ${NAME}
count: 1
image: ${IMAGE}
flavor: ${flavor}
manage_interval: 0
network: {subnet: [${NETWORK}]}
update: {strategy: in_place, max_unavailable: 1}
`;

type Shown = NovaServer & { hostId?: string };

describe('in-place resize on the OpenStack lab', () => {
  it('resizes to the new flavor on another host, confirms it, and records the spec Nova shows', async () => {
    const t = await testDaemon(settings, { 'r.conf': presetText(FLAVOR) });
    daemons.track(t.daemon);
    const d = t.daemon;
    const [before] = (await convergeServers(
      d,
      cloud,
      NAME,
      (s) => s.length === 1 && activeServers(s).length === 1,
      180_000,
    )) as Shown[];
    if (!before) throw new Error('no server');
    expect(before.flavor?.original_name).toBe(FLAVOR);

    writeFileSync(join(t.dir, 'presets/r.conf'), presetText('m1.small'));
    await d.refreshPresets();
    const preset = d.catalog.get(NAME);
    if (!preset) throw new Error('the changed preset did not load');
    const seen = new Set<string>();
    const [after] = (await waitFor(
      async () => {
        await d.runOnce();
        const live = await liveServers(cloud, NAME);
        for (const s of live) seen.add(s.status);
        return live;
      },
      (s) =>
        s.length === 1 &&
        s[0]?.status === 'ACTIVE' &&
        !s[0]?.['OS-EXT-STS:task_state'] &&
        s[0]?.metadata?.[META_SPEC] === preset.specHash,
      180_000,
      250,
    )) as Shown[];
    if (!after) throw new Error('no server');

    // The same server, ACTIVE on the new flavor, after Nova's resize and its confirmation.
    expect(after.id).toBe(before.id);
    expect(after.flavor?.original_name).toBe('m1.small');
    expect(await actions(cloud, after.id)).toEqual(['create', 'resize', 'confirmResize']);
    // The lab's fake driver cannot resize on the same host: the server moved, as Nova shows it.
    expect(after.hostId).toBeTruthy();
    expect(after.hostId).not.toBe(before.hostId);
    const raw = (await api(cloud, 'compute', 'GET', `/servers/${after.id}`)) as { server: Shown };
    expect(raw.server.status).toBe('ACTIVE');
    expect(raw.server.flavor?.original_name).toBe('m1.small');

    // What is recorded is what Nova showed: the flavor fingerprint of the new spec, on a server on it.
    expect(decodeParts(after.metadata?.[META_PARTS])?.flavor).toBe(preset.specParts.flavor);
    expect(preset.specParts.flavor).not.toBe(decodeParts(before.metadata?.[META_PARTS])?.flavor);
    const vm = await cloud.get(after.id);
    expect(vm?.flavor).toBe('m1.small');
    expect(vm?.state).toBe('running');
    const updated = parseState(await d.runtime.load(NAME)).events.filter((e) => e.type === 'updated');
    expect(updated.map((e) => e.data)).toEqual([{ op: 'resize', fields: 'flavor' }]);
    // The listings between saw the resize in progress, never an error.
    expect(seen.has('ERROR')).toBe(false);
  }, 420_000);
});
