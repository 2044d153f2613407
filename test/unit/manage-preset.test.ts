import PQueue from 'p-queue';
import { describe, expect, it } from 'vitest';
import { CloudAccount } from '../../src/daemon/cloud-account.js';
import { SimulatedCloud } from '../../src/drivers/iaas/dummy/cloud.js';
import { dummyDriverFor } from '../../src/drivers/iaas/dummy/driver.js';
import { dummyOptionsSchema } from '../../src/drivers/iaas/dummy/options.js';
import { InMemoryRuntime } from '../../src/drivers/runtime/memory.js';
import type { IaasDriver } from '../../src/drivers/types.js';
import { ShepherdError } from '../../src/errors/shepherd-error.js';
import { leaseKey, type ManageDeps, managePreset } from '../../src/reconcile/manage-preset.js';
import { parseState } from '../../src/reconcile/state.js';
import { systemClock } from '../../src/util/clock.js';
import { quietLogger } from '../helpers/catalog.js';
import { preset } from '../helpers/fixtures.js';

function setup(cloudOverride?: Partial<IaasDriver>) {
  const backend = new InMemoryRuntime(systemClock);
  const runtimeAs = (owner: string) => backend.as(owner);
  const cloud = new SimulatedCloud(dummyOptionsSchema.parse({ latency: 0, boot_time: 0 }), systemClock);
  const driver = { ...dummyDriverFor(cloud), ...cloudOverride };
  const deps: ManageDeps = {
    runtime: runtimeAs('me'),
    cloud: new CloudAccount('acct', 'DummyIaasDriver', driver, { maxConcurrentCalls: 8, callsPerSecond: 0 }),
    health: null,
    healthQueue: new PQueue({ concurrency: 8 }),
    clock: systemClock,
    logger: quietLogger(),
    instanceId: 'me',
    eventsKept: 100,
    healthHistory: 10,
    stopping: new AbortController().signal,
  };
  return { deps, cloud, other: runtimeAs('other') };
}

describe('managePreset', () => {
  it('creates the missing VMs under a lease and saves the post-action state with its token', async () => {
    const { deps, cloud } = setup();
    const outcome = await managePreset(preset({ count: 3, healthcheck: null }), deps);
    expect(outcome).toMatchObject({ result: 'managed', created: 3 });
    expect(cloud.size()).toBe(3);
    const state = parseState(await deps.runtime.load('web'));
    expect(state.vms).toHaveLength(3);
    expect(state.events.map((e) => [e.type, e.token, e.instance])).toEqual([
      ['created', outcome.lease!.token, 'me'],
      ['created', outcome.lease!.token, 'me'],
      ['created', outcome.lease!.token, 'me'],
    ]);
    expect(state.lastManagedBy).toBe('me');
  });

  it('does nothing when another instance holds the lease', async () => {
    const { deps, cloud, other } = setup();
    await other.acquire(leaseKey('web'), 60_000);
    const outcome = await managePreset(preset({ count: 3 }), deps);
    expect(outcome.result).toBe('leased_elsewhere');
    expect(cloud.size()).toBe(0);
  });

  it('skips a preset managed less than manage_interval ago, unless forced', async () => {
    const { deps, cloud } = setup();
    const p = preset({ count: 1, manageIntervalMs: 60_000, healthcheck: null });
    await managePreset(p, deps);
    await cloud.terminate((await cloud.listAll())[0]!.id);
    expect((await managePreset(p, deps)).result).toBe('not_due');
    expect(cloud.size()).toBe(0);
    expect((await managePreset(p, deps, { force: true })).created).toBe(1);
  });

  it('reports a failed listing on the preset and retries it on the next cycle', async () => {
    let fail = true;
    const { deps, cloud } = setup({
      listAll: undefined,
      list: async (name, o) => {
        if (fail) throw new ShepherdError('dummy_call_2001', 'list');
        return cloud.list(name, o?.signal);
      },
    });
    const p = preset({ count: 2, manageIntervalMs: 60_000, healthcheck: null });
    const failed = await managePreset(p, deps);
    expect(failed).toMatchObject({ result: 'failed', error: { code: 'dummy_call_2001' } });
    const state = parseState(await deps.runtime.load('web'));
    expect(state.status).toMatchObject({ phase: 'failing', code: 'dummy_call_2001' });
    expect(state.lastManagedAt).toBeNull();
    fail = false;
    expect((await managePreset(p, deps)).created).toBe(2);
  });

  it('saves the step a remedy reached in the VM snapshot, and takes the next step from there', async () => {
    const { deps } = setup();
    let sick: string | undefined;
    deps.health = {
      check: async (vm) =>
        vm.id === sick
          ? { verdict: 'unhealthy', reason: 'down', latencyMs: 1 }
          : { verdict: 'healthy', latencyMs: 1 },
    };
    const p = preset({ count: 3 }, { unhealthyThreshold: 1, remedies: ['reboot', 'rebuild', 'replace'] });
    await managePreset(p, deps);
    sick = parseState(await deps.runtime.load('web')).vms[0]!.id;
    await managePreset(p, deps);
    const after = parseState(await deps.runtime.load('web'));
    expect(after.vms.find((v) => v.id === sick)?.health).toMatchObject({ remedied: 1, failures: 0 });
    await managePreset(p, deps);
    const steps = parseState(await deps.runtime.load('web'))
      .events.filter((e) => e.type === 'remedied')
      .map((e) => [e.vm, /^\w+/.exec(e.reason)?.[0]]);
    expect(steps).toEqual([
      [sick, 'reboot'],
      [sick, 'rebuild'],
    ]);
  });

  it('reads health from a state saved with the record by VM id of earlier versions', () => {
    const snapshot = {
      id: 'a',
      name: 'web-a',
      state: 'running',
      ips: [],
      createdAt: new Date(0).toISOString(),
    };
    const health = { failures: 0, failingSince: null, verdict: 'healthy', history: 'h', remedied: 2 };
    const old = {
      version: 1,
      vms: [{ ...snapshot, health: { ...health, remedied: undefined } }],
      health: { a: health },
    };
    const state = parseState(old);
    expect(state.vms[0]?.health).toEqual(health);
    expect(state).not.toHaveProperty('health');
  });

  it('stops acting, and saves nothing, once it can no longer renew its lease', async () => {
    const { deps, cloud, other } = setup();
    const slowCreate: IaasDriver['create'] = async (spec, o) => {
      await new Promise((r) => setTimeout(r, 60));
      return cloud.create(spec, o.idempotencyKey);
    };
    const s = setup({ create: slowCreate });
    // The runtime store becomes unreachable for renewals: the lease runs out during the creates.
    s.deps.runtime = {
      ...deps.runtime,
      renew: async () => {
        throw new ShepherdError('runtime_lease_0001', 'store unreachable');
      },
    };
    const p = preset({ count: 10, leaseTtlMs: 200, createConcurrency: 1, healthcheck: null });
    const outcome = await managePreset(p, s.deps);
    expect(outcome).toMatchObject({ result: 'failed', error: { code: 'runtime_lease_0001' } });
    expect(cloud.size()).toBeGreaterThan(0);
    expect(cloud.size()).toBeLessThan(10); // no create after the local deadline (ttl - ttl/10)
    expect(await deps.runtime.load('web')).toBeNull(); // nothing saved without a valid lease
    await new Promise((r) => setTimeout(r, 60)); // the local deadline is a tenth of the TTL early
    expect(await other.acquire(leaseKey('web'), 60_000)).not.toBeNull(); // the lease expired for others
  });
});
