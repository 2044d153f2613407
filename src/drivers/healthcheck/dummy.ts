import { z } from 'zod';
import { zodOptions } from '../../config/zod-issues.js';
import { unitHash } from '../../util/seeded.js';
import { defineDriver, type HealthCheck, type HealthResult } from '../types.js';

const options = z.strictObject({
  unhealthy_rate: z
    .number()
    .min(0)
    .max(1)
    .default(0)
    .describe('share of VMs that turn unhealthy for good (chosen by VM id and seed)'),
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
 * deterministic sick VMs (`unhealthy_rate`) and flaky checks (`fail_rate`) under a seed.
 */
export const dummyHealthcheck = defineDriver({
  kind: 'healthcheck',
  name: 'DummyHealthcheck',
  description: 'Simulated health check: healthy, or sick/flaky VMs chosen deterministically by seed',
  ...zodOptions(options),
  create: (o, ctx): HealthCheck => {
    let checks = 0; // a sequence for flaky results: deterministic per seed, and nothing kept per VM
    return {
      async check(vm, call): Promise<HealthResult> {
        if (o.latency > 0) await ctx.clock.sleep(o.latency * 1000, call?.signal);
        const n = ++checks;
        const age = (ctx.clock.now() - Date.parse(vm.createdAt)) / 1000;
        const sick =
          o.unhealthy_rate > 0 &&
          unitHash(o.seed, 'sick', vm.id) < o.unhealthy_rate &&
          age >= o.unhealthy_after;
        if (sick)
          return {
            verdict: 'unhealthy',
            reason: 'simulated: VM is sick',
            code: 'dummy_check_0001',
            latencyMs: o.latency * 1000,
          };
        if (o.fail_rate > 0 && unitHash(o.seed, 'flaky', vm.id, n) < o.fail_rate) {
          return {
            verdict: 'unhealthy',
            reason: 'simulated: flaky check',
            code: 'dummy_check_0001',
            latencyMs: o.latency * 1000,
          };
        }
        return { verdict: 'healthy', latencyMs: o.latency * 1000 };
      },
    };
  },
});
