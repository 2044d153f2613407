import { afterAll, expect, it } from 'vitest';
import type { NovaServer } from '../../src/drivers/iaas/openstack/server-view.js';
import { specFor } from '../../src/testing/iaas-contract.js';
import { api, FLAVOR, IMAGE, labCloud, NETWORK, waitFor } from './lab.js';

/**
 * A config drive and several interfaces: the original's `subnets` entry (by name), a `networks` entry by
 * name with a fixed IP on a network of the project, and an existing port. The project network exists only
 * while the test needs it: with two networks the project has no single default network, which other
 * creates without networks rely on.
 */
const c = labCloud('demo');
const pid = process.pid;
const cleanup: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const undo of cleanup) await undo().catch(() => undefined);
  await c.close();
});

const server = async (id: string) =>
  ((await api(c, 'compute', 'GET', `/servers/${id}`)) as { server: NovaServer }).server;
const ports = async (deviceId: string) =>
  (
    (await api(c, 'network', 'GET', `/ports?device_id=${deviceId}`)) as {
      ports: { id: string; network_id: string; fixed_ips: { ip_address: string }[] }[];
    }
  ).ports;

/** Straight from Neutron: the driver's network cache is left cold for the create to fill. */
const networkIdOf = async (name: string) =>
  ((await api(c, 'network', 'GET', `/networks?name=${name}`)) as { networks: { id: string }[] }).networks[0]
    ?.id;

it('attaches a config drive and the interfaces of subnets and networks, names resolved through Neutron', async () => {
  const port = (
    (await api(c, 'network', 'POST', '/ports', {
      port: { network_id: await networkIdOf(NETWORK), name: `vol-port-${pid}` },
    })) as { port: { id: string } }
  ).port;
  cleanup.push(() => api(c, 'network', 'DELETE', `/ports/${port.id}`));
  const net = (
    (await api(c, 'network', 'POST', '/networks', { network: { name: `vol-net-${pid}` } })) as {
      network: { id: string };
    }
  ).network;
  cleanup.push(() => api(c, 'network', 'DELETE', `/networks/${net.id}`));
  await api(c, 'network', 'POST', '/subnets', {
    subnet: { network_id: net.id, cidr: '10.77.0.0/24', ip_version: 4, name: `vol-subnet-${pid}` },
  });

  const spec = specFor(
    `vol-nets-${pid}`,
    { image: IMAGE, flavor: FLAVOR },
    {
      configDrive: true,
      network: {
        securityGroups: [],
        subnets: [NETWORK],
        nics: [{ network: `vol-net-${pid}`, fixedIp: '10.77.0.10' }, { port: port.id }],
      },
    },
  );
  const vm = await c.create(spec, { idempotencyKey: `vol-nets-${pid}` });
  const gone = () =>
    waitFor(
      () => c.get(vm.id),
      (v) => v === null,
      60_000,
    );
  cleanup.unshift(() => c.terminate(vm.id).then(gone)); // first: the port and network are in use until then
  const active = await waitFor(
    () => server(vm.id),
    (s) => s.status === 'ACTIVE' || s.status === 'ERROR',
    60_000,
  );
  expect(active.status).toBe('ACTIVE');
  expect(String((active as NovaServer & { config_drive?: unknown }).config_drive)).toMatch(/^true$/i);
  expect(Object.keys(active.addresses ?? {}).sort()).toEqual([NETWORK, `vol-net-${pid}`].sort());
  expect(active.addresses?.[`vol-net-${pid}`]?.map((a) => a.addr)).toEqual(['10.77.0.10']);
  expect(active.addresses?.[NETWORK]).toHaveLength(2); // the subnets entry and the port
  const attached = await ports(vm.id);
  expect(attached.map((p) => p.id)).toContain(port.id);
  expect(attached).toHaveLength(3);

  await c.terminate(vm.id);
  await gone();
});
