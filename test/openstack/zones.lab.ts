import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatPreview } from '../../src/cli/commands/plan.js';
import type { Daemon } from '../../src/daemon/daemon.js';
import type { OpenStackCloud } from '../../src/drivers/iaas/openstack/openstack-cloud.js';
import type { NovaServer } from '../../src/drivers/iaas/openstack/server-view.js';
import { parseState } from '../../src/reconcile/state.js';
import { testDaemon } from '../helpers/daemon.js';
import {
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
} from './lab.js';

// Zone spread and flavor fallbacks against the lab: three hosts in nova, az1 and az2. Only this file's
// presets' servers are touched (the project may hold others').
const PRESETS = ['lab-zones', 'lab-fallback'];
/** A public flavor no host can take (a required trait no host has): Nova fails its servers NoValidHost. */
const UNPLACEABLE = `lab-zones-none-${process.pid}`;

let demoCloud: OpenStackCloud;
let admin: OpenStackCloud;
const daemons = stopDaemonsAfterEach();
let flavorId: string | undefined;

const removeOurs = () => removeServersOf(demoCloud, PRESETS);

beforeAll(async () => {
  demoCloud = labCloud('demo');
  admin = labCloud('admin');
  await removeOurs();
  const made = (await api(admin, 'compute', 'POST', '/flavors', {
    flavor: { name: UNPLACEABLE, ram: 512, vcpus: 1, disk: 1, 'os-flavor-access:is_public': true },
  })) as { flavor: { id: string } };
  flavorId = made.flavor.id;
  await api(admin, 'compute', 'POST', `/flavors/${flavorId}/os-extra_specs`, {
    extra_specs: { 'trait:CUSTOM_LAB_NONE': 'required' },
  });
});
afterAll(async () => {
  await removeOurs();
  if (flavorId) await api(admin, 'compute', 'DELETE', `/flavors/${flavorId}`).catch(() => undefined);
  await Promise.all([demoCloud.close(), admin.close()]);
});

const settings = labSettings();

async function start(name: string, text: string): Promise<Daemon> {
  const t = await testDaemon(settings, { [`${name}.conf`]: text });
  daemons.track(t.daemon);
  return t.daemon;
}

const zoneOf = (s: NovaServer) =>
  (s as NovaServer & { 'OS-EXT-AZ:availability_zone'?: string })['OS-EXT-AZ:availability_zone'];

describe('zone spread and flavor fallbacks on the OpenStack lab', () => {
  it('spreads 6 servers 2/2/2 over nova, az1 and az2, and plan shows it', async () => {
    const d = await start(
      'lab-zones',
      `name: lab-zones
count: 6
image: ${IMAGE}
flavor: ${FLAVOR}
manage_interval: 0
network: {subnet: [${NETWORK}], availability_zone: [nova, az1, az2]}
`,
    );
    const servers = await convergeServers(
      d,
      demoCloud,
      'lab-zones',
      (s) => s.length === 6 && activeServers(s).length === 6 && s.every((x) => zoneOf(x)),
    );
    const counts: Record<string, number> = {};
    for (const s of servers) counts[zoneOf(s) ?? '?'] = (counts[zoneOf(s) ?? '?'] ?? 0) + 1;
    expect(counts).toEqual({ nova: 2, az1: 2, az2: 2 });
    const [preview] = await d.plan('lab-zones');
    expect(formatPreview(preview!)).toContain('zones: nova 2, az1 2, az2 2');
    expect(preview!.create).toBe(0);
  });

  it('uses the second flavor of the list when Nova finds no host for the first', async () => {
    const d = await start(
      'lab-fallback',
      `name: lab-fallback
count: 2
image: ${IMAGE}
flavor: [${UNPLACEABLE}, ${FLAVOR}]
manage_interval: 0
network: {subnet: [${NETWORK}]}
`,
    );
    const servers = await convergeServers(
      d,
      demoCloud,
      'lab-fallback',
      (s) => s.length === 2 && activeServers(s).length === 2,
    );
    expect(servers.map((s) => s.flavor?.original_name)).toEqual([FLAVOR, FLAVOR]);
    const events = parseState(await d.runtime.load('lab-fallback')).events;
    const skipped = events.filter((e) => e.type === 'flavor_skipped');
    expect(skipped.length).toBeGreaterThanOrEqual(1);
    expect(skipped[0]!.code).toBe('openstack_create_0002');
    expect(skipped[0]!.reason).toContain(`${UNPLACEABLE}: no capacity`);
    // The fallback is not drift: the servers stay.
    const ids = servers.map((s) => s.id).sort();
    for (let i = 0; i < 3; i++) await d.runOnce();
    expect((await liveServers(demoCloud, 'lab-fallback')).map((s) => s.id).sort()).toEqual(ids);
    const [preview] = await d.plan('lab-fallback');
    expect(preview!.rollout.outdated).toBe(0);
  });
});
