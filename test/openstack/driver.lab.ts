import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OpenStackCloud } from '../../src/drivers/iaas/openstack/openstack-cloud.js';
import { META_IDEMPOTENCY, META_PRESET } from '../../src/drivers/types.js';
import type { ShepherdError } from '../../src/errors/shepherd-error.js';
import { iaasContract, specFor } from '../../src/testing/iaas-contract.js';
import { systemClock } from '../../src/util/clock.js';
import { actions, api, demo, emptyProject, FLAVOR, IMAGE, labCloud, NETWORK, waitFor } from './lab.js';

const clouds: OpenStackCloud[] = [];
function cloud(options: Record<string, unknown> = {}): OpenStackCloud {
  const c = labCloud('demo', options);
  clouds.push(c);
  return c;
}

let admin: OpenStackCloud;
beforeAll(async () => {
  admin = labCloud('admin');
  await emptyProject(cloud());
});
afterAll(async () => {
  await emptyProject(cloud());
  await Promise.all([...clouds, admin].map((c) => c.close()));
});

iaasContract(
  'OpenStackDriver on the lab',
  async () => {
    const driver = cloud();
    return { driver, image: IMAGE, flavor: FLAVOR, close: () => emptyProject(driver) };
  },
  { bootTimeoutMs: 60_000, pollMs: 500 },
);

describe('OpenStackDriver on the lab', () => {
  it('pages through servers and images with limit/marker, and never lists short while Nova schedules', async () => {
    const c = cloud({ page_size: 2 });
    const preset = `page-${process.pid}`;
    const made = await Promise.all(
      [1, 2, 3, 4, 5].map((i) =>
        c.create(specFor(preset, { image: IMAGE, flavor: FLAVOR }), { idempotencyKey: `k${i}` }),
      ),
    );
    const ids = made.map((v) => v.id).sort();
    // Right after the creates Nova is scheduling them: a listing is whole, or refused with its code.
    const unsettled = 'openstack_list_2001';
    const listOrRefused = () =>
      c.list(preset).then(
        (l) => l.map((v) => v.id).sort(),
        (e: unknown) => {
          if ((e as ShepherdError).code === unsettled) return unsettled;
          throw e;
        },
      );
    const first = await listOrRefused();
    if (first !== unsettled) expect(first).toEqual(ids);
    const before = c.http.counts.get('GET compute') ?? 0;
    const settled = await waitFor(listOrRefused, (l) => l !== unsettled, 60_000);
    expect(settled).toEqual(ids);
    expect((c.http.counts.get('GET compute') ?? 0) - before).toBeGreaterThanOrEqual(3); // 5 servers, 2 a page
    expect(await c.imageId(IMAGE)).toMatch(/^[0-9a-f-]{36}$/);
    await emptyProject(c);
  });

  it('serves presets that list at once with two project listings, not one each', async () => {
    const c = cloud();
    const preset = `shared-${process.pid}`;
    const vm = await c.create(specFor(preset, { image: IMAGE, flavor: FLAVOR }), { idempotencyKey: 's1' });
    await waitFor(
      () => c.list(preset),
      (l) => l[0]?.state === 'running',
      60_000,
    ); // settled, and the flavor cache filled
    const before = c.http.counts.get('GET compute') ?? 0;
    // As after a failed account listing: every preset of the project lists on its own, all at once.
    const lists = await Promise.all(
      Array.from({ length: 20 }, (_, i) => c.list(i % 2 === 0 ? preset : `other-${i}`)),
    );
    // The first call's listing, then one begun after it for the 19 that asked meanwhile: one page each.
    expect((c.http.counts.get('GET compute') ?? 0) - before).toBe(2);
    expect(lists.map((l) => l.map((v) => v.id).join())).toEqual(
      Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? vm.id : '')),
    );
    await emptyProject(c);
  });

  it('resolves networks by name and subnets by name, and sends key_name, zone and security groups', async () => {
    const c = cloud();
    const key = `lab-key-${process.pid}`;
    await api(c, 'compute', 'POST', '/os-keypairs', { keypair: { name: key } }, '2.1');
    try {
      const preset = `net-${process.pid}`;
      const vm = await c.create(
        specFor(
          preset,
          { image: IMAGE, flavor: 'm1.small' },
          {
            keyName: key,
            network: { securityGroups: ['default'], availabilityZone: 'nova', subnets: ['shared-subnet'] },
          },
        ),
        { idempotencyKey: 'n1' },
      );
      const s = (await api(admin, 'compute', 'GET', `/servers/${vm.id}`)) as {
        server: Record<string, unknown> & { addresses: Record<string, unknown> };
      };
      expect(s.server.key_name).toBe(key);
      expect(s.server['OS-EXT-AZ:availability_zone']).toBe('nova');
      expect((s.server.flavor as { original_name: string }).original_name).toBe('m1.small');
      const running = await waitFor(
        () => c.get(vm.id),
        (v) => v?.state === 'running',
        60_000,
      );
      expect(running?.ips[0]).toMatch(/^10\.0\./);
      expect(running?.image).toBe(IMAGE);
    } finally {
      await api(c, 'compute', 'DELETE', `/os-keypairs/${key}`, undefined, '2.1');
      await emptyProject(c);
    }
  });

  it('maps refusals to catalogue codes: unknown flavor, image, network; bad key pair', async () => {
    const c = cloud();
    const spec = (extra: object) => specFor(`err-${process.pid}`, { image: IMAGE, flavor: FLAVOR }, extra);
    await expect(c.create(spec({ flavor: 'm9.nope' }), { idempotencyKey: 'e1' })).rejects.toMatchObject({
      code: 'openstack_resolve_0001',
    });
    await expect(c.create(spec({ image: 'no-such-image' }), { idempotencyKey: 'e2' })).rejects.toMatchObject({
      code: 'openstack_resolve_0001',
    });
    await expect(
      c.create(spec({ network: { securityGroups: [], subnets: ['no-net'] } }), { idempotencyKey: 'e3' }),
    ).rejects.toMatchObject({ code: 'openstack_resolve_0001' });
    await expect(c.create(spec({ keyName: 'no-such-key' }), { idempotencyKey: 'e4' })).rejects.toMatchObject({
      code: 'openstack_call_0004',
    });
    expect(await c.list(`err-${process.pid}`)).toEqual([]);
    const bad = labCloud('demo', {
      password: 'wrong',
      auth_url: demoUrl(),
      username: 'demo',
      project_name: 'demo',
      ...(demo.OS_CACERT ? { cacert: demo.OS_CACERT } : {}),
    });
    clouds.push(bad);
    await expect(bad.listAll()).rejects.toMatchObject({ code: 'openstack_auth_0001' });
  });

  it('renews the token once when a service answers 401, and before it expires', async () => {
    const c = cloud();
    await c.listAll();
    const token = await c.session.token();
    // Nova caches validated tokens, so a revocation reaches it late; a token it has never seen is refused at once.
    token.value = 'gAAAAAB-revoked-token';
    expect(c.session.issued).toBe(1);
    await c.listAll();
    expect(c.session.issued).toBe(2);
    let skew = 0;
    const late = labCloud('demo', {}, { now: () => Date.now() + skew, sleep: systemClock.sleep });
    clouds.push(late);
    await late.listAll();
    const first = await late.session.token();
    skew = first.expiresAt - Date.now() - 60_000; // a minute before expiry: past the renewal point
    await late.listAll();
    expect(late.session.issued).toBe(2);
    expect((await late.session.token()).value).not.toBe(first.value);
  });

  it('stops, starts, reboots and rebuilds a server, keeping its metadata', async () => {
    const c = cloud();
    const preset = `verbs-${process.pid}`;
    const spec = specFor(
      preset,
      { image: IMAGE, flavor: FLAVOR },
      { network: { securityGroups: [], subnets: [NETWORK] } },
    );
    const vm = await c.create(spec, { idempotencyKey: 'v1' });
    const state = (want: string) =>
      waitFor(
        () => c.get(vm.id),
        (v) => v?.providerStatus === want,
        60_000,
      );
    await state('ACTIVE');
    await c.capabilities.stop(vm.id);
    expect((await state('SHUTOFF'))?.state).toBe('stopped');
    await c.capabilities.stop(vm.id); // already stopped: done
    await c.capabilities.start(vm.id);
    await state('ACTIVE');
    await c.capabilities.reboot(vm.id);
    await state('ACTIVE');
    // A rebuild resolves once Nova shows it done, and leaves the metadata as it was; the loop records
    // the spec afterwards.
    await c.capabilities.rebuild(vm.id, { ...spec, userdata: 'new' });
    const rebuilt = await c.get(vm.id);
    expect(rebuilt).toMatchObject({ providerStatus: 'ACTIVE', image: IMAGE });
    expect(rebuilt?.metadata).toEqual(vm.metadata);
    await c.capabilities.setMetadata(vm.id, { ...spec, metadata: { vmshepherd_spec: 'v2' } });
    const recorded = await c.get(vm.id);
    expect(recorded?.metadata.vmshepherd_spec).toBe('v2');
    expect(recorded?.metadata[META_PRESET]).toBe(preset);
    expect(recorded?.metadata[META_IDEMPOTENCY]).toBe('v1');
    expect(await actions(c, vm.id)).toEqual(['create', 'stop', 'start', 'reboot', 'rebuild']);
    await c.terminate(vm.id);
  });

  it('resizes a server (to another host), confirms it and waits until it is settled on the flavor', async () => {
    const c = cloud();
    const spec = specFor(
      `resize-${process.pid}`,
      { image: IMAGE, flavor: FLAVOR },
      { network: { securityGroups: [], subnets: [NETWORK] } },
    );
    const vm = await c.create(spec, { idempotencyKey: 'r1' });
    await waitFor(
      () => c.get(vm.id),
      (v) => v?.state === 'running',
      60_000,
    );
    await c.capabilities.resize(vm.id, { ...spec, flavor: 'm1.small' });
    expect(await c.get(vm.id)).toMatchObject({ providerStatus: 'ACTIVE', flavor: 'm1.small' });
    expect(await actions(c, vm.id)).toEqual(['create', 'resize', 'confirmResize']);
    // Resizing to the flavor it has asks nothing.
    await c.capabilities.resize(vm.id, { ...spec, flavor: 'm1.small' });
    expect(await actions(c, vm.id)).toEqual(['create', 'resize', 'confirmResize']);
    await c.terminate(vm.id);
  });

  it('reports a resize no host can take with its code, and leaves the server on its flavor', async () => {
    const huge = `lab-huge-${process.pid}`;
    // Bigger than any host of the lab (800,000 MB each), still under the project's RAM quota.
    const created = (await api(admin, 'compute', 'POST', '/flavors', {
      flavor: { name: huge, ram: 900_000, vcpus: 1, disk: 1, 'os-flavor-access:is_public': true },
    })) as { flavor: { id: string } };
    try {
      const c = cloud({ resize_timeout: 60 });
      const spec = specFor(
        `nohost-${process.pid}`,
        { image: IMAGE, flavor: FLAVOR },
        { network: { securityGroups: [], subnets: [NETWORK] } },
      );
      const vm = await c.create(spec, { idempotencyKey: 'h1' });
      await waitFor(
        () => c.get(vm.id),
        (v) => v?.state === 'running',
        60_000,
      );
      await expect(c.capabilities.resize(vm.id, { ...spec, flavor: huge })).rejects.toMatchObject({
        code: 'openstack_resize_2001',
      });
      expect(await c.get(vm.id)).toMatchObject({ state: 'running', flavor: FLAVOR });
      expect(await actions(c, vm.id)).not.toContain('rebuild');
      await c.terminate(vm.id);
    } finally {
      await api(admin, 'compute', 'DELETE', `/flavors/${created.flavor.id}`);
    }
  });
});

function demoUrl(): string {
  return labCloudUrl;
}
const labCloudUrl = (await import('./lab.js')).demo.OS_AUTH_URL ?? 'http://127.0.0.1:5000/v3';
