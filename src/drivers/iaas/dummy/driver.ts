import type { z } from 'zod';
import { type Clock, systemClock } from '../../../util/clock.js';
import { defineDriver, type IaasDriver } from '../../types.js';
import { zodOptions } from '../../zod-options.js';
import { SimulatedCloud } from './cloud.js';
import { type DummyOptions, dummyOptionsSchema } from './options.js';
import { settlingVerbs } from './settling.js';
import { StateFile } from './state-file.js';

const live = new Set<SimulatedCloud>();

/** The simulated clouds of this process, for observers that must not go through the API (tests, benchmarks). */
export function simulatedClouds(): SimulatedCloud[] {
  return [...live];
}

/**
 * The simulated cloud as an IaaS driver. Presets with equal options share one driver instance (the
 * daemon caches by accountKey) and therefore one simulated account.
 */
export const dummyIaasDriver = defineDriver({
  kind: 'iaas',
  name: 'DummyIaasDriver',
  description:
    'Simulated cloud: boot times, latency, quota, capacity and fault injection, deterministic under a seed',
  ...zodOptions(dummyOptionsSchema as z.ZodObject),
  accountKey: (o) => JSON.stringify(o),
  credentialRoutes: { endpoints: ['endpoint'], secrets: ['token'] },
  create: async (options, ctx): Promise<IaasDriver> => {
    const o = options as DummyOptions;
    if (o.endpoint) {
      // Imported when used (see BUILTIN_DRIVERS): the client brings undici, which a cloud in process does not need.
      const { remoteDummyDriver } = await import('./remote.js');
      return withoutAccountListing(remoteDummyDriver(o.endpoint, o.token), o);
    }
    const cloud = new SimulatedCloud(o, ctx.clock);
    live.add(cloud);
    let stateFile: StateFile | undefined;
    if (o.state_file) {
      stateFile = new StateFile(ctx.resolvePath(o.state_file), cloud);
      stateFile.load();
      cloud.onChange = () => stateFile?.changed();
    }
    const driver = withoutAccountListing(dummyDriverFor(cloud, stateFile, ctx.clock), o);
    const close = driver.close;
    driver.close = async () => {
      live.delete(cloud);
      await close?.();
    };
    return driver;
  },
});

/**
 * Without `listAll` the daemon lists every preset with its own call: the cloud latency then counts once
 * per preset and cycle (this option applies on the daemon's side, also with a shared simulator).
 */
function withoutAccountListing(driver: IaasDriver, o: DummyOptions): IaasDriver {
  if (o.account_listing) return driver;
  const { listAll: _dropped, listAllByPreset: _grouped, ...rest } = driver;
  return rest;
}

export function dummyDriverFor(
  cloud: SimulatedCloud,
  stateFile?: StateFile,
  clock: Clock = systemClock,
): IaasDriver {
  return {
    list: (preset, call) => cloud.list(preset, call?.signal),
    listAll: (call) => cloud.listAll(call?.signal),
    listAllByPreset: (call) => cloud.listAllByPreset(call?.signal),
    get: (id, call) => cloud.get(id, call?.signal),
    create: (spec, call) => cloud.create(spec, call.idempotencyKey, call.signal),
    terminate: (id, call) => cloud.terminate(id, call?.signal),
    capabilities: settlingVerbs(cloud, clock),
    lockAccount: cloud.account,
    close: async () => {
      await stateFile?.flush();
    },
  };
}
