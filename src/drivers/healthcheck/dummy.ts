import { z } from 'zod';
import { unitHash } from '../../util/seeded.js';
import { defineDriver, type HealthCheck, type HealthResult } from '../types.js';
import { zodOptions } from '../zod-options.js';

const options = z.strictObject({
  unhealthy_rate: z
    .number()
    .min(0)
    .max(1)
    .default(0)
    .describe('share of VMs that turn unhealthy for good (chosen by VM id and seed)'),
  sick_every: z
    .number()
    .int()
    .nonnegative()
    .default(0)
    .describe('every Nth VM this check sees turns unhealthy for good (0: off); deterministic, for demos'),
  unhealthy_after: z
    .number()
    .nonnegative()
    .default(0)
    .describe('seconds after creation when such a VM starts failing'),
  fail_rate: z
    .number()
    .min(0)
    .max(1)
    .default(0)
    .describe('chance that any single check fails (flaky checks)'),
  latency: z.number().nonnegative().default(0).describe('seconds each check takes'),
  seed: z.union([z.number(), z.string()]).default(1),
});

/**
 * A simulated health check for demos, tests and benchmarks: healthy unless configured otherwise, with
 * sick VMs (`unhealthy_rate` by id and seed, or `sick_every` Nth VM seen) and flaky checks (`fail_rate`).
 */
export const dummyHealthcheck = defineDriver({
  kind: 'healthcheck',
  name: 'DummyHealthcheck',
  description: 'Simulated health check: healthy, or sick/flaky VMs chosen deterministically',
  ...zodOptions(options),
  create: (o, ctx): HealthCheck => {
    let checks = 0; // a sequence for flaky results: deterministic per seed, and nothing kept per VM
    const ordinals = new Map<string, number>(); // only with sick_every (demos: a few VMs)
    const sickByRate = (id: string) =>
      o.unhealthy_rate > 0 && unitHash(o.seed, 'sick', id) < o.unhealthy_rate;
    const sickByOrder = (id: string) => {
      if (o.sick_every === 0) return false;
      let ordinal = ordinals.get(id);
      if (ordinal === undefined) {
        ordinal = ordinals.size + 1;
        ordinals.set(id, ordinal);
      }
      return ordinal % o.sick_every === 0;
    };
    const unhealthy = (reason: string): HealthResult => ({
      verdict: 'unhealthy',
      reason,
      code: 'dummy_check_0001',
      latencyMs: o.latency * 1000,
    });
    return {
      async check(vm, call): Promise<HealthResult> {
        if (o.latency > 0) await ctx.clock.sleep(o.latency * 1000, call?.signal);
        const n = ++checks;
        const age = (ctx.clock.now() - Date.parse(vm.createdAt)) / 1000;
        const sick = sickByOrder(vm.id) || sickByRate(vm.id);
        if (sick && age >= o.unhealthy_after) return unhealthy('simulated: VM is sick');
        if (o.fail_rate > 0 && unitHash(o.seed, 'flaky', vm.id, n) < o.fail_rate)
          return unhealthy('simulated: flaky check');
        return { verdict: 'healthy', latencyMs: o.latency * 1000 };
      },
    };
  },
});
