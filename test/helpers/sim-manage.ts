import PQueue from 'p-queue';
import { CloudAccount } from '../../src/daemon/cloud-account.js';
import { SimulatedCloud } from '../../src/drivers/iaas/dummy/cloud.js';
import { dummyDriverFor } from '../../src/drivers/iaas/dummy/driver.js';
import { dummyOptionsSchema } from '../../src/drivers/iaas/dummy/options.js';
import { InMemoryRuntime } from '../../src/drivers/runtime/memory.js';
import type { IaasDriver } from '../../src/drivers/types.js';
import type { ManageDeps } from '../../src/reconcile/manage-preset.js';
import { type Clock, systemClock } from '../../src/util/clock.js';
import { quietLogger } from './catalog.js';

/**
 * What managePreset needs over a simulated cloud in this process (no latency, instant boots unless
 * `options` say otherwise), an in-memory runtime and no health check; `override` replaces driver calls.
 */
export function simManage(
  options: Record<string, unknown> = {},
  override: Partial<IaasDriver> = {},
  clock: Clock = systemClock,
) {
  const cloud = new SimulatedCloud(
    dummyOptionsSchema.parse({ latency: 0, boot_time: 0, ...options }),
    systemClock,
  );
  const account = new CloudAccount(
    'acct',
    'DummyIaasDriver',
    { ...dummyDriverFor(cloud), ...override },
    {
      maxConcurrentCalls: 8,
      callsPerSecond: 0,
    },
  );
  const deps: ManageDeps = {
    runtime: new InMemoryRuntime(systemClock).as('me'),
    cloud: account,
    health: null,
    healthQueue: new PQueue({ concurrency: 8 }),
    clock,
    logger: quietLogger(),
    instanceId: 'me',
    eventsKept: 100,
    healthHistory: 10,
    stopping: new AbortController().signal,
  };
  return { cloud, account, deps };
}
