import { unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatPreview } from '../../src/cli/commands/plan.js';
import type { Daemon } from '../../src/daemon/daemon.js';
import { openStackClouds } from '../../src/drivers/iaas/openstack/driver.js';
import type { OpenStackCloud } from '../../src/drivers/iaas/openstack/openstack-cloud.js';
import type { NovaServerGroup } from '../../src/drivers/iaas/openstack/server-groups.js';
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
  waitFor,
} from './lab.js';

// Server groups against the lab's three hosts. Only this file's presets (`sg-*-<pid>`) and groups
// (`vmshepherd-sg-*`, `sg-existing-*`) are touched, and all are deleted at the end.
const ANTI = `sg-anti-${process.pid}`;
const KEEP = `sg-keep-${process.pid}`;
const BY_ID = `sg-byid-${process.pid}`;
const PRESETS = [ANTI, KEEP, BY_ID];
const EXISTING = `sg-existing-${process.pid}`;

let cloud: OpenStackCloud;
const daemons = stopDaemonsAfterEach();

const groups = async () =>
  (
    (await api(cloud, 'compute', 'GET', '/os-server-groups', undefined, '2.64')) as {
      server_groups: NovaServerGroup[];
    }
  ).server_groups;
const groupNamed = async (name: string) => (await groups()).find((g) => g.name === name);
const ours = (g: NovaServerGroup) => PRESETS.some((p) => g.name.includes(p)) || g.name === EXISTING;

async function removeOurs(): Promise<void> {
  await removeServersOf(cloud, PRESETS);
  for (const g of (await groups()).filter(ours))
    await api(cloud, 'compute', 'DELETE', `/os-server-groups/${g.id}`, undefined, '2.64');
}

beforeAll(async () => {
  cloud = labCloud('demo');
  await removeOurs();
});
afterAll(async () => {
  await removeOurs();
  await cloud.close();
});

// cache_ttl 2: a group still held by an orphan's server is looked at again after 2 s, not 300.
const settings = labSettings({ iaasExtra: ', cache_ttl: 2' });

const presetText = (name: string, count: number, group: string) => `name: ${name}
count: ${count}
image: ${IMAGE}
flavor: ${FLAVOR}
manage_interval: 0
network: {subnet: [${NETWORK}]}
server_group: ${group}
create_backoff: {quota_window: 600}
`;

async function start(files: Record<string, string>): Promise<{ d: Daemon; dir: string }> {
  const t = await testDaemon(settings, files);
  daemons.track(t.daemon);
  return { d: t.daemon, dir: t.dir };
}

const hostIds = (servers: NovaServer[]) => servers.map((s) => (s as NovaServer & { hostId?: string }).hostId);
const allCalls = () =>
  openStackClouds().reduce((n, c) => n + [...c.http.counts.values()].reduce((a, b) => a + b, 0), 0);
const creates = () => openStackClouds().reduce((n, c) => n + (c.http.counts.get('POST compute') ?? 0), 0);
const running = (n: number) => (s: NovaServer[]) => s.length === n && activeServers(s).length === n;

describe('server groups on the OpenStack lab', () => {
  it('puts 3 anti-affinity servers on 3 hosts, and fails a 4th for capacity with a backoff, not a loop', async () => {
    const { d, dir } = await start({ 'a.conf': presetText(ANTI, 3, '{policy: anti-affinity}') });
    const three = await convergeServers(d, cloud, ANTI, running(3), 180_000).catch(async (e) => {
      throw new Error(
        `${e}; events ${JSON.stringify(parseState(await d.runtime.load(ANTI)).events.slice(-6))}`,
      );
    });
    const hosts = hostIds(three);
    expect(hosts.every((h) => typeof h === 'string' && h.length > 0)).toBe(true);
    expect(new Set(hosts).size).toBe(3);
    const group = await groupNamed(`vmshepherd-${ANTI}-anti-affinity`);
    expect(group?.policy).toBe('anti-affinity');
    expect([...(group?.members ?? [])].sort()).toEqual(three.map((s) => s.id).sort());

    writeFileSync(join(dir, 'presets/a.conf'), presetText(ANTI, 4, '{policy: anti-affinity}'));
    await d.refreshPresets();
    // The 4th goes to ERROR "No valid host" (Nova's capacity error), is read with its code and deleted.
    const events = await waitFor(
      async () => {
        await d.runOnce();
        return parseState(await d.runtime.load(ANTI)).events;
      },
      (e) => e.some((x) => x.code === 'openstack_create_0002'),
      180_000,
      500,
      (e) => JSON.stringify(e.slice(-8)),
    );
    const capacity = events.filter((e) => e.code === 'openstack_create_0002');
    expect(capacity[0]?.reason).toMatch(/no capacity|no valid host/i);
    await convergeServers(d, cloud, ANTI, running(3), 180_000);
    // From here on creates wait for the window: cycles keep running and ask Nova for nothing new.
    const before = creates();
    const liveBefore = (await liveServers(cloud, ANTI)).map((s) => s.id).sort();
    const perCycle: number[] = [];
    for (let i = 0; i < 15; i++) {
      const calls = allCalls();
      await d.runOnce();
      perCycle.push(allCalls() - calls);
      await new Promise((r) => setTimeout(r, 200));
    }
    // Steady cycles (groups cached, the set of wanted groups unchanged): the listing, no group call.
    expect(Math.max(...perCycle)).toBeLessThanOrEqual(3);
    expect(creates() - before).toBe(0);
    expect((await liveServers(cloud, ANTI)).map((s) => s.id).sort()).toEqual(liveBefore);
    const [preview] = await d.plan(ANTI);
    expect(formatPreview(preview!)).toMatch(/creates wait until/);
    const created = parseState(await d.runtime.load(ANTI)).events.filter((e) => e.type === 'created');
    expect(created).toHaveLength(4);
  }, 600_000);

  it('finds its group again after a restart, and deletes it once the preset is removed and empty', async () => {
    const name = `vmshepherd-${KEEP}-affinity`;
    const first = await start({ 'k.conf': presetText(KEEP, 1, '{policy: affinity}') });
    const [one] = await convergeServers(first.d, cloud, KEEP, running(1));
    const made = await groupNamed(name);
    expect(made?.members).toEqual([one?.id]);
    await daemons.stop(first.d);

    const second = await start({
      'k.conf': presetText(KEEP, 2, '{policy: affinity}'),
      // Another preset of the account stays configured after k.conf is removed.
      'x.conf': presetText(BY_ID, 0, '{policy: anti-affinity}'),
    });
    const two = await convergeServers(second.d, cloud, KEEP, running(2));
    const same = (await groups()).filter((g) => g.name === name);
    expect(same.map((g) => g.id)).toEqual([made?.id]);
    expect([...(same[0]?.members ?? [])].sort()).toEqual(two.map((s) => s.id).sort());
    expect(new Set(hostIds(two)).size).toBe(1);

    unlinkSync(join(second.dir, 'presets/k.conf'));
    await second.d.refreshPresets();
    await second.d.runOnce();
    // The preset's servers are orphans now, left alone: the group keeps them and stays.
    expect((await groupNamed(name))?.id).toBe(made?.id);
    for (const s of two) await cloud.terminate(s.id);
    await waitFor(
      async () => {
        await second.d.refreshPresets();
        return groupNamed(name);
      },
      (g) => g === undefined,
      60_000,
      500,
    );
  });

  it('joins an existing group given by id, and makes none of its own', async () => {
    const made = (await api(
      cloud,
      'compute',
      'POST',
      '/os-server-groups',
      { server_group: { name: EXISTING, policy: 'soft-anti-affinity' } },
      '2.64',
    )) as { server_group: NovaServerGroup };
    const id = made.server_group.id;
    const { d } = await start({ 'b.conf': presetText(BY_ID, 2, `{id: ${id}}`) });
    const two = await convergeServers(d, cloud, BY_ID, running(2));
    const group = await groupNamed(EXISTING);
    expect([...(group?.members ?? [])].sort()).toEqual(two.map((s) => s.id).sort());
    // No group of vmshepherd's was made for it.
    expect((await groups()).filter((g) => g.name.includes(BY_ID))).toEqual([]);
  });
});
