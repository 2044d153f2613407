import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon/daemon.js';
import type { OpenStackCloud } from '../../src/drivers/iaas/openstack/openstack-cloud.js';
import type { NovaServer } from '../../src/drivers/iaas/openstack/server-view.js';
import { META_PRESET, META_SPEC } from '../../src/drivers/types.js';
import { parseState } from '../../src/reconcile/state.js';
import { testDaemon } from '../helpers/daemon.js';
import {
  activeServers,
  api,
  convergeServers,
  emptyProject,
  FLAVOR,
  IMAGE,
  labCloud,
  labSettings,
  liveServers,
  NETWORK,
  stopDaemonsAfterEach,
  waitFor,
} from './lab.js';

let demoCloud: OpenStackCloud;
let admin: OpenStackCloud;
const daemons = stopDaemonsAfterEach();
let dir = '';

beforeAll(() => {
  demoCloud = labCloud('demo');
  admin = labCloud('admin');
});
beforeEach(async () => {
  await emptyProject(demoCloud);
});
afterAll(async () => {
  await emptyProject(demoCloud);
  await Promise.all([demoCloud.close(), admin.close()]);
});

const settings = labSettings();

function preset(name: string, count: number, extra = ''): string {
  return `name: ${name}
count: ${count}
image: ${IMAGE}
flavor: ${FLAVOR}
manage_interval: 0
network: {subnet: [${NETWORK}], security_groups: [default]}
meta_tags: {team: lab}
${extra}`;
}

async function start(presets: Record<string, string>): Promise<Daemon> {
  const t = await testDaemon(settings, presets);
  daemons.track(t.daemon);
  dir = t.dir;
  return t.daemon;
}

async function rewrite(d: Daemon, file: string, text: string): Promise<void> {
  writeFileSync(join(dir, 'presets', file), text);
  await d.refreshPresets();
}

const live = (name: string) => liveServers(demoCloud, name);
const active = activeServers;
const converge = (d: Daemon, name: string, ok: (s: NovaServer[]) => boolean, timeoutMs?: number) =>
  convergeServers(d, demoCloud, name, ok, timeoutMs);

async function events(d: Daemon, name: string) {
  return parseState(await d.runtime.load(name)).events;
}

describe('a preset on the OpenStack lab', () => {
  it('reaches count with the right flavor, image, key pair, network, metadata and user data; scales 3 → 5 → 2', async () => {
    const key = `lab-key-${process.pid}`;
    await api(demoCloud, 'compute', 'POST', '/os-keypairs', { keypair: { name: key } }, '2.1');
    try {
      const text = (n: number) =>
        preset(
          'lab-web',
          n,
          `key_name: ${key}\nuserdata: "#cloud-config\\nhostname: {{ name }}-{{ meta_tags.team }}\\n"\n`,
        );
      const d = await start({ 'web.conf': text(3) });
      const servers = await converge(d, 'lab-web', (s) => s.length === 3 && active(s).length === 3);
      const imageId = await demoCloud.imageId(IMAGE);
      const spec = d.catalog.get('lab-web')?.specHash;
      for (const s of servers) {
        const full = (
          (await api(admin, 'compute', 'GET', `/servers/${s.id}`, undefined, '2.47')) as {
            server: NovaServer & Record<string, unknown>;
          }
        ).server;
        expect(full.flavor?.original_name).toBe(FLAVOR);
        expect((full.image as { id: string }).id).toBe(imageId);
        expect(full.key_name).toBe(key);
        expect(Object.keys(full.addresses ?? {})).toEqual([NETWORK]);
        expect(full.metadata).toMatchObject({ [META_PRESET]: 'lab-web', [META_SPEC]: spec, team: 'lab' });
        const userData = Buffer.from(String(full['OS-EXT-SRV-ATTR:user_data']), 'base64').toString();
        // Jinja drops the template's final newline, as the original's renderer did.
        expect(userData).toBe('#cloud-config\nhostname: lab-web-lab');
        expect(s.name.startsWith('lab-web-')).toBe(true);
      }
      await rewrite(d, 'web.conf', text(5));
      await converge(d, 'lab-web', (s) => s.length === 5 && active(s).length === 5);
      await rewrite(d, 'web.conf', text(2));
      await converge(d, 'lab-web', (s) => s.length === 2);
    } finally {
      await api(demoCloud, 'compute', 'DELETE', `/os-keypairs/${key}`, undefined, '2.1');
    }
  });

  it('replaces a server deleted behind its back and one set to ERROR', async () => {
    const d = await start({ 'web.conf': preset('lab-heal', 2) });
    const [a, b] = await converge(d, 'lab-heal', (s) => active(s).length === 2);
    await demoCloud.terminate(a!.id);
    await api(admin, 'compute', 'POST', `/servers/${b!.id}/action`, { 'os-resetState': { state: 'error' } });
    const healed = await converge(
      d,
      'lab-heal',
      (s) => active(s).length === 2 && s.length === 2 && s.every((x) => x.id !== a!.id && x.id !== b!.id),
    );
    expect(healed.map((s) => s.id)).not.toContain(b!.id);
    const types = (await events(d, 'lab-heal')).map((e) => e.type);
    expect(types.filter((t) => t === 'created').length).toBeGreaterThanOrEqual(4);
  });

  it("adopts the original VmShepherd's servers (named after the preset, no metadata) and adds none", async () => {
    const name = 'lab-orig';
    const [imageRef, flavorRef, [network]] = await Promise.all([
      demoCloud.imageId(IMAGE),
      demoCloud.flavorId(FLAVOR),
      demoCloud.networkRefs([NETWORK]),
    ]);
    // The original's way: one name for every server of the preset, and no metadata.
    const made: string[] = [];
    for (let i = 0; i < 2; i++) {
      const body = (await api(demoCloud, 'compute', 'POST', '/servers', {
        server: { name, imageRef, flavorRef, networks: [network] },
      })) as { server: { id: string } };
      made.push(body.server.id);
    }
    const named = async () => (await demoCloud.servers({ name: `^${name}$` })).filter((s) => s.name === name);
    await waitFor(named, (s) => s.length === 2 && s.every((x) => x.status === 'ACTIVE'), 60_000);
    const d = await start({ 'orig.conf': preset(name, 2) });
    for (let i = 0; i < 4; i++) await d.runOnce();
    const after = await named();
    expect(after.map((s) => s.id).sort()).toEqual([...made].sort());
    expect(after.every((s) => s.metadata?.[META_PRESET] === name)).toBe(true);
    expect((await demoCloud.servers({})).length).toBe(2); // no server added beside them
    const types = (await events(d, name)).map((e) => e.type);
    expect(types.filter((t) => t === 'adopted')).toHaveLength(2);
    expect(types).not.toContain('created');
    expect(types).not.toContain('terminated');
  });

  it('keeps two presets of one project apart', async () => {
    const d = await start({ 'a.conf': preset('lab-a', 2), 'b.conf': preset('lab-b', 1) });
    await converge(d, 'lab-a', (s) => active(s).length === 2);
    const b = await converge(d, 'lab-b', (s) => active(s).length === 1);
    const a = await live('lab-a');
    for (let i = 0; i < 3; i++) await d.runOnce();
    expect((await live('lab-a')).map((s) => s.id).sort()).toEqual(a.map((s) => s.id).sort());
    expect((await live('lab-b')).map((s) => s.id)).toEqual(b.map((s) => s.id));
    const stateA = parseState(await d.runtime.load('lab-a'));
    expect(stateA.vms.map((v) => v.id).sort()).toEqual(a.map((s) => s.id).sort());
  });

  it('reports quota exhaustion with its code and retries after the window, without a create storm', async () => {
    const projectId = (await demoCloud.session.token()).projectId;
    expect(projectId).toBeTruthy();
    const path = `/os-quota-sets/${projectId}`;
    const before = ((await api(admin, 'compute', 'GET', path)) as { quota_set: { instances: number } })
      .quota_set.instances;
    try {
      await api(admin, 'compute', 'PUT', path, { quota_set: { instances: 2 } });
      const d = await start({
        'web.conf': preset('lab-quota', 4, 'create_backoff: {quota_window: 6}\ncreate_concurrency: 1\n'),
      });
      const end = Date.now() + 15_000;
      while (Date.now() < end) {
        await d.runOnce();
        await new Promise((r) => setTimeout(r, 250));
      }
      expect((await live('lab-quota')).length).toBe(2);
      const failed = (await events(d, 'lab-quota')).filter((e) => e.type === 'create_failed');
      expect(failed.length).toBeGreaterThanOrEqual(2); // creates 3 and 4 of the first manage, and again after the window
      expect(failed.length).toBeLessThanOrEqual(8); // 40+ cycles ran: no create storm
      expect(failed.every((e) => e.code === 'openstack_create_0001')).toBe(true);
      await api(admin, 'compute', 'PUT', path, { quota_set: { instances: before } });
      await converge(d, 'lab-quota', (s) => s.length === 4, 60_000);
    } finally {
      await api(admin, 'compute', 'PUT', path, { quota_set: { instances: before } });
    }
  });
});
