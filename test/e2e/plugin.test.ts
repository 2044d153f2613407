import { afterEach, describe, expect, it } from 'vitest';
// The contract suites and types as a plugin author gets them: the package's public entries, not src/.
import { type HealthCheck, type IaasDriver, isShepherdError, ShepherdError } from 'vmshepherd';
import { healthcheckContract, iaasContract, specFor, vmAt } from 'vmshepherd/testing';
import type { Daemon } from '../../src/daemon/daemon.js';
import { DriverRegistry } from '../../src/drivers/registry.js';
import { catalogIn } from '../helpers/catalog.js';
import { eventually, running, testDaemon } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';

// The fixture package is installed as a local directory dependency (package.json devDependencies).
const registry = new DriverRegistry([process.cwd()]);

let daemon: Daemon | undefined;
afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
});

iaasContract(
  'FixtureCloudDriver (plugin package)',
  async () => {
    const def = await registry.resolve('iaas', 'FixtureCloudDriver');
    const parsed = def.parseOptions({ region: `contract-${Math.random()}` });
    if (!parsed.ok) throw new Error('options');
    return { driver: (await def.create(parsed.value, {} as never)) as IaasDriver };
  },
  { bootTimeoutMs: 1000 },
);

healthcheckContract(
  'FixtureHealthcheck (plugin package)',
  async () => {
    const def = await registry.resolve('healthcheck', 'FixtureHealthcheck');
    const parsed = def.parseOptions({});
    if (!parsed.ok) throw new Error('options');
    return {
      check: (await def.create(parsed.value, {} as never)) as HealthCheck,
      healthy: vmAt('198.51.100.1'),
      unhealthy: vmAt('192.0.2.1'),
    };
  },
  { skipBecause: 'the fixture check makes no network call, so no VM can stay silent' },
);

describe('plugin packages', () => {
  it("throw errors of their own codes, treated by the code's class", async () => {
    const def = await registry.resolve('iaas', 'FixtureCloudDriver');
    const parsed = def.parseOptions({ region: 'codes' });
    if (!parsed.ok) throw new Error('options');
    const driver = (await def.create(parsed.value, {} as never)) as IaasDriver;
    const err = await driver
      .create(specFor('coded', { flavor: 'exhausted' }), { idempotencyKey: 'k1' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ShepherdError);
    expect(isShepherdError(err, 'fixture_create_0001')).toBe(true);
    const e = err as ShepherdError;
    expect([e.class, e.limit, e.retryable]).toEqual(['api', 'quota', false]);
    expect(e.message).toBe(
      'The fixture cloud has no quota left for this flavor: exhausted [fixture_create_0001]',
    );
  });

  it('resolve by the name declared in their package.json, with their origin', async () => {
    const resolved = await registry.resolveWithOrigin('iaas', 'FixtureCloudDriver');
    expect(resolved.origin).toBe('npm:vmshepherd-plugin-fixture@1.2.3');
    const { drivers, broken } = await registry.list();
    expect(broken).toEqual([]);
    expect(drivers.map((d) => `${d.definition.kind}:${d.definition.name}:${d.origin}`)).toEqual(
      expect.arrayContaining([
        'iaas:DummyIaasDriver:built-in',
        'iaas:FixtureCloudDriver:npm:vmshepherd-plugin-fixture@1.2.3',
        'healthcheck:FixtureHealthcheck:npm:vmshepherd-plugin-fixture@1.2.3',
      ]),
    );
  });

  it('manage a preset through the plugin IaaS driver', async () => {
    const t = await testDaemon(
      'runtime: {driver: InMemoryDriver}\npresets: {driver: DirectoryDriver, path: presets}\ndefaults:\n  iaas: {driver: FixtureCloudDriver, region: e2e}\n  healthcheck: {driver: FixtureHealthcheck}\n',
      { 'a.conf': 'name: plugged\ncount: 3\nimage: img\nmanage_interval: 0\n' },
    );
    daemon = t.daemon;
    const d = daemon;
    await d.refreshPresets();
    const cloud = await d.drivers.account(d.catalog.get('plugged')!);
    const vms = await eventually(
      async () => {
        await d.runOnce();
        return cloud.list('plugged');
      },
      (v) => running(v) === 3,
      5000,
    );
    expect(vms.every((v) => v.metadata.plugin_region === 'e2e')).toBe(true);
  });

  it("validate their own options, with the plugin's keys as hints", async () => {
    const dir = tempDir({
      'presets/a.conf': 'name: a\ncount: 1\niaas: {driver: FixtureCloudDriver, regoin: x}\n',
    });
    const catalog = await catalogIn(
      dir,
      'runtime: {driver: InMemoryDriver}\npresets: {driver: DirectoryDriver, path: presets}\n',
    );
    const { problems } = await catalog.refresh();
    expect(problems.map((p) => p.code).sort()).toEqual(['driver_options_1001', 'driver_options_1002']);
    expect(problems.find((p) => p.code === 'driver_options_1002')!.message).toContain(
      "did you mean 'region'",
    );
  });

  it('of the wrong kind are refused with a clear code', async () => {
    await expect(registry.resolve('runtime', 'FixtureCloudDriver')).rejects.toMatchObject({
      code: 'driver_resolve_1003',
    });
  });
});
