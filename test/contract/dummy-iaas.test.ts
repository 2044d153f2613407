import { describe, expect, it } from 'vitest';
import { SimulatedCloud } from '../../src/drivers/iaas/dummy/cloud.js';
import { dummyDriverFor } from '../../src/drivers/iaas/dummy/driver.js';
import { type DummyOptions, dummyOptionsSchema } from '../../src/drivers/iaas/dummy/options.js';
import { StateFile } from '../../src/drivers/iaas/dummy/state-file.js';
import type { Vm } from '../../src/drivers/types.js';
import { iaasContract, specFor } from '../../src/testing/iaas-contract.js';
import { systemClock } from '../../src/util/clock.js';
import { tempDir } from '../helpers/tmp.js';

const options = (o: Partial<DummyOptions> = {}) =>
  dummyOptionsSchema.parse({ latency: 0, boot_time: 0.05, ...o });

iaasContract(
  'DummyIaasDriver',
  async () => ({ driver: dummyDriverFor(new SimulatedCloud(options(), systemClock)) }),
  { bootTimeoutMs: 2000 },
);

/** A clock the test moves by hand: the simulated cloud computes every status from it. */
function manualClock(start = Date.parse('2026-01-01T00:00:00Z')) {
  let now = start;
  return { now: () => now, sleep: async () => {}, advance: (ms: number) => (now += ms) };
}

describe('the simulated cloud', () => {
  const subject = { image: 'img', flavor: 'small' };

  it('boots VMs through BUILD to ACTIVE after boot_time', async () => {
    const clock = manualClock();
    const cloud = new SimulatedCloud(options({ boot_time: 5 }), clock);
    const vm = await cloud.create(specFor('p', subject), 'k1');
    expect(vm).toMatchObject({ state: 'pending', providerStatus: 'BUILD' });
    clock.advance(4999);
    expect((await cloud.get(vm.id))?.providerStatus).toBe('BUILD');
    clock.advance(1);
    expect((await cloud.get(vm.id))?.providerStatus).toBe('ACTIVE');
  });

  it("gives every VM 127.0.0.1 by default, as the original's dummy did, and 10.x.y.z with addresses: private", async () => {
    const loopback = new SimulatedCloud(options(), systemClock);
    const a = await loopback.create(specFor('p', subject), 'a');
    const b = await loopback.create(specFor('p', subject), 'b');
    expect([a.ips, b.ips]).toEqual([['127.0.0.1'], ['127.0.0.1']]);
    const own = new SimulatedCloud(options({ addresses: 'private' }), systemClock);
    const c = await own.create(specFor('p', subject), 'c');
    const d = await own.create(specFor('p', subject), 'd');
    expect(c.ips[0]).toMatch(/^10\.\d+\.\d+\.\d+$/);
    expect(d.ips[0]).not.toBe(c.ips[0]);
  });

  it('enforces the instance quota and per-flavor capacity with their codes', async () => {
    const cloud = new SimulatedCloud(options({ quota: { instances: 3 }, capacity: { big: 1 } }), systemClock);
    await cloud.create(specFor('p', { flavor: 'big' }), 'a');
    await expect(cloud.create(specFor('p', { flavor: 'big' }), 'b')).rejects.toMatchObject({
      code: 'dummy_create_0002',
    });
    await cloud.create(specFor('p', subject), 'c');
    await cloud.create(specFor('p', subject), 'd');
    await expect(cloud.create(specFor('p', subject), 'e')).rejects.toMatchObject({
      code: 'dummy_create_0001',
    });
  });

  it('injects the same faults for the same seed, and others for another seed', async () => {
    const outcomes = async (seed: number) => {
      const cloud = new SimulatedCloud(options({ error_rate: 0.3, seed }), systemClock);
      const out: string[] = [];
      for (let i = 0; i < 40; i++) {
        out.push(
          await cloud.create(specFor('p', subject), `k${i}`).then(
            () => 'ok',
            (e) => e.code,
          ),
        );
      }
      return out.join(',');
    };
    const a = await outcomes(1);
    expect(a).toContain('dummy_call_2001');
    expect(a).toContain('ok');
    expect(await outcomes(1)).toBe(a);
    expect(await outcomes(2)).not.toBe(a);
  });

  it('lets VMs fail to boot and die later, deterministically', async () => {
    const clock = manualClock();
    const fates = async () => {
      const cloud = new SimulatedCloud(
        options({ boot_time: 1, boot_failure_rate: 0.3, death_rate: 1, seed: 1 }),
        clock,
      );
      const vms: Vm[] = [];
      for (let i = 0; i < 30; i++) vms.push(await cloud.create(specFor('p', subject), `k${i}`));
      clock.advance(2000);
      const booted = await Promise.all(vms.map((v) => cloud.get(v.id)));
      clock.advance(3 * 3_600_000);
      const later = await Promise.all(vms.map((v) => cloud.get(v.id)));
      return {
        booted: booted.map((v) => v?.state),
        later: later.map((v) => v?.state),
        faults: later.map((v) => v?.fault ?? ''),
      };
    };
    const first = await fates();
    expect(first.booted.filter((s) => s === 'error').length).toBeGreaterThan(3);
    expect(first.later.filter((s) => s === 'error').length).toBeGreaterThan(
      first.booted.filter((s) => s === 'error').length,
    );
    expect(first.faults.some((f) => f.includes('dummy_boot_2001'))).toBe(true);
    expect(first.faults.some((f) => f.includes('dummy_run_2001'))).toBe(true);
  });

  it('times out slow calls after they took effect', async () => {
    const cloud = new SimulatedCloud(
      options({ slow_calls: { rate: 1, latency: 0.05 }, call_timeout: 0.01 }),
      systemClock,
    );
    await expect(cloud.create(specFor('p', subject), 'k')).rejects.toMatchObject({ code: 'dummy_call_2002' });
    expect(cloud.size()).toBe(1);
  });

  it('sets iaas_timed_shutdown when asked', async () => {
    const clock = manualClock();
    const cloud = new SimulatedCloud(options({ timed_shutdown: 600 }), clock);
    const vm = await cloud.create(specFor('p', subject), 'k');
    expect(vm.timedShutdownAt).toBe(clock.now() + 600_000);
  });

  it('stops, starts, reboots and refuses illegal transitions', async () => {
    const clock = manualClock();
    const cloud = new SimulatedCloud(options({ boot_time: 1 }), clock);
    const vm = await cloud.create(specFor('p', subject), 'k');
    await expect(cloud.stop(vm.id)).rejects.toMatchObject({ code: 'dummy_op_0002' });
    clock.advance(1000);
    await cloud.stop(vm.id);
    expect((await cloud.get(vm.id))?.state).toBe('stopped');
    await cloud.start(vm.id);
    // A task on an existing VM is not a boot: `unknown`, so boot_timeout (timed from creation) never applies.
    expect(await cloud.get(vm.id)).toMatchObject({ state: 'unknown', providerStatus: 'REBOOT' });
    clock.advance(1000);
    expect((await cloud.get(vm.id))?.state).toBe('running');
    await expect(cloud.start('nope')).rejects.toMatchObject({ code: 'dummy_op_0001' });
  });

  it('keeps its VMs in a state file across restarts', async () => {
    const dir = tempDir();
    const file = `${dir}/cloud.json`;
    const first = new SimulatedCloud(options(), systemClock);
    const state = new StateFile(file, first);
    first.onChange = () => state.changed();
    const vm = await first.create(specFor('p', subject), 'k');
    await state.flush();
    const second = new SimulatedCloud(options(), systemClock);
    new StateFile(file, second).load();
    expect((await second.list('p')).map((v) => v.id)).toEqual([vm.id]);
    const next = await second.create(specFor('p', subject), 'k2');
    expect(next.id).not.toBe(vm.id);
  });
});
