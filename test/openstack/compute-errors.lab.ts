import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudAccount } from '../../src/daemon/cloud-account.js';
import type { OpenStackCloud } from '../../src/drivers/iaas/openstack/openstack-cloud.js';
import { ShepherdError } from '../../src/errors/shepherd-error.js';
import { specFor } from '../../src/testing/iaas-contract.js';
import { api, FLAVOR, IMAGE, labCloud, liveServers, NETWORK, waitFor } from './lab.js';

// The typed compute errors (not implemented, instance not found, wrong state), each provoked against the
// lab. Only this file's servers (preset `sg-errors-<pid>`) are touched.
const PRESET = `sg-errors-${process.pid}`;
let cloud: OpenStackCloud;

beforeAll(() => {
  cloud = labCloud('demo');
});
afterAll(async () => {
  await waitFor(
    async () => {
      const left = await liveServers(cloud, PRESET);
      await Promise.all(left.map((s) => cloud.terminate(s.id)));
      return left.length;
    },
    (n) => n === 0,
    60_000,
  );
  await cloud.close();
});

async function activeServer(): Promise<string> {
  const vm = await cloud.create(
    specFor(
      PRESET,
      { image: IMAGE, flavor: FLAVOR },
      { network: { securityGroups: [], subnets: [NETWORK] } },
    ),
    { idempotencyKey: `sg-errors-${Math.random()}` },
  );
  await waitFor(
    () => cloud.get(vm.id),
    (v) => v?.state === 'running',
    60_000,
  );
  return vm.id;
}

const codeOfFailure = (p: Promise<unknown>) =>
  p.then(
    () => 'resolved',
    (e: unknown) => (e instanceof ShepherdError ? e.code : String(e)),
  );

describe('typed compute errors on the OpenStack lab', () => {
  it('a start of an ACTIVE server is a 409 wrong state; the driver counts it as done', async () => {
    const id = await activeServer();
    const raw = api(cloud, 'compute', 'POST', `/servers/${id}/action`, { 'os-start': null });
    await expect(raw).rejects.toMatchObject({
      code: 'openstack_compute_0003',
      details: { status: 409 },
    });
    const err = await raw.catch((e: ShepherdError) => e);
    expect((err as ShepherdError).retryable).toBe(true);
    expect((err as ShepherdError).message).toMatch(/vm_state active/);
    // The verb itself: the server is already where `start` leads.
    await expect(cloud.capabilities.start(id)).resolves.toBeUndefined();
  });

  it('an action on a deleted server is instance not found, and the account neither retries it nor trips on it', async () => {
    const id = await activeServer();
    await cloud.terminate(id);
    await waitFor(
      () => cloud.get(id),
      (v) => v === null,
      60_000,
    );
    expect(await codeOfFailure(cloud.capabilities.stop(id))).toBe('openstack_compute_0002');
    expect(await codeOfFailure(cloud.capabilities.reboot(id))).toBe('openstack_compute_0002');
    const spec = specFor(PRESET, { image: IMAGE, flavor: 'm1.small' });
    expect(await codeOfFailure(cloud.capabilities.resize(id, spec))).toBe('openstack_compute_0002');
    // Not retried by the account (a server that is gone stays gone) and not counted by its breaker.
    const account = new CloudAccount('sg', 'OpenStackDriver', cloud, {
      maxConcurrentCalls: 2,
      callsPerSecond: 0,
    });
    const before = cloud.http.counts.get('POST compute') ?? 0;
    expect(await codeOfFailure(account.verb('stop', id, undefined))).toBe('openstack_compute_0002');
    expect((cloud.http.counts.get('POST compute') ?? 0) - before).toBe(1);
  });

  it('a microversion the cloud does not offer is not implemented, with no retry', async () => {
    const raw = api(cloud, 'compute', 'GET', '/servers?limit=1', undefined, '2.99');
    await expect(raw).rejects.toMatchObject({ code: 'openstack_compute_0001', details: { status: 406 } });
    expect(((await raw.catch((e: ShepherdError) => e)) as ShepherdError).retryable).toBe(false);
  });
});
