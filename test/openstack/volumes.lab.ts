import { afterAll, expect, it } from 'vitest';
import type { NovaServer } from '../../src/drivers/iaas/openstack/server-view.js';
import { specFor } from '../../src/testing/iaas-contract.js';
import { api, cinder, FLAVOR, IMAGE, labCloud, waitFor } from './lab.js';

/** Boot from volume: the root disk is a new Cinder volume made from the image, deleted with the server. */
const c = labCloud('demo');
const made: string[] = [];
afterAll(async () => {
  await Promise.all(made.map((id) => c.terminate(id)));
  await c.close();
});

type Attached = { id: string; delete_on_termination?: boolean }[];
const server = async (id: string) =>
  ((await api(c, 'compute', 'GET', `/servers/${id}`, undefined, '2.67')) as { server: NovaServer }).server;
const attached = (s: NovaServer) =>
  (s as NovaServer & { 'os-extended-volumes:volumes_attached'?: Attached })[
    'os-extended-volumes:volumes_attached'
  ] ?? [];

it('boots a server from a new volume of the size and type asked, and the volume is gone with it', async () => {
  const spec = specFor(
    `vol-${process.pid}`,
    { image: IMAGE, flavor: FLAVOR },
    {
      volume: { size: 2, type: '__DEFAULT__', deleteOnTermination: true },
    },
  );
  const vm = await c.create(spec, { idempotencyKey: `vol-${process.pid}` });
  made.push(vm.id);
  const active = await waitFor(
    () => server(vm.id),
    (s) => s.status === 'ACTIVE' || s.status === 'ERROR',
    60_000,
  );
  expect(active.status).toBe('ACTIVE');
  // Booted from the volume: Nova shows no image, and one volume attached that goes with the server.
  expect(active.image === '' || active.image === null).toBe(true);
  const [root, ...others] = attached(active);
  expect(others).toEqual([]);
  expect(root?.delete_on_termination).toBe(true);
  const volume = await cinder(c, 'GET', `/volumes/${root?.id}`);
  expect(volume.status).toBe(200);
  expect((volume.body as { volume: unknown }).volume).toMatchObject({
    size: 2,
    volume_type: '__DEFAULT__',
    bootable: 'true',
    status: 'in-use',
  });

  await c.terminate(vm.id);
  // Cinder itself says the volume is gone (it passes through `deleting` first).
  await waitFor(
    () => cinder(c, 'GET', `/volumes/${root?.id}`),
    (r) => r.status === 404,
    60_000,
  );
  // Nova shows the server DELETED for a moment before it is gone.
  await waitFor(
    () => c.get(vm.id),
    (v) => v === null,
    60_000,
  );
});
