import { z } from 'zod';

const seconds = z.number().nonnegative();
const range = z.union([seconds, z.strictObject({ min: seconds, max: seconds })]);

export const dummyOptionsSchema = z.strictObject({
  account: z
    .string()
    .default('default')
    .describe('name of the simulated account; presets with equal options share one cloud'),
  latency: range.default(0.1).describe('seconds per API call (a number, or {min, max})'),
  boot_time: range.default(3).describe('seconds from create (BUILD) to ACTIVE'),
  stop_time: range
    .default(0)
    .describe('seconds from a stop to SHUTOFF (like Nova: ACTIVE, task powering-off, meanwhile)'),
  delete_time: range
    .default(0)
    .describe('seconds a deleted VM is still listed, being deleted (like Nova: ACTIVE, task deleting)'),
  error_rate: z
    .number()
    .min(0)
    .max(1)
    .default(0)
    .describe('chance that any call fails before doing anything'),
  slow_calls: z
    .strictObject({
      rate: z.number().min(0).max(1).describe('chance that a call is slow'),
      latency: seconds.describe('seconds a slow call takes'),
    })
    .optional(),
  call_timeout: z
    .number()
    .positive()
    .default(30)
    .describe('a call slower than this fails with a timeout after taking effect'),
  quota: z
    .strictObject({ instances: z.number().int().nonnegative() })
    .optional()
    .describe('instance quota of the account'),
  capacity: z
    .record(z.string(), z.number().int().nonnegative())
    .optional()
    .describe('max VMs per flavor (no valid host beyond)'),
  zones: z
    .array(z.string().min(1))
    .min(1)
    .optional()
    .describe(
      'availability zones of the account (default: any zone a preset names); a VM created without a zone goes to the first',
    ),
  zone_capacity: z
    .record(z.string(), z.number().int().nonnegative())
    .optional()
    .describe('max VMs per availability zone (no valid host beyond: a zone out of capacity)'),
  no_valid_host: z
    .enum(['create', 'boot'])
    .optional()
    .describe(
      'how a create beyond capacity fails: create (default) = the call fails; boot = the call succeeds and the VM goes to ERROR with the fault "No valid host was found" once its build time ends (as Nova does)',
    ),
  boot_failure_rate: z
    .number()
    .min(0)
    .max(1)
    .default(0)
    .describe('chance that a VM goes to ERROR instead of ACTIVE'),
  broken_images: z
    .array(z.string())
    .optional()
    .describe('images whose VMs always fail to boot (a bad release)'),
  death_rate: z
    .number()
    .nonnegative()
    .default(0)
    .describe('VM deaths per VM-hour (a running VM goes to ERROR)'),
  timed_shutdown: seconds
    .optional()
    .describe('set iaas_timed_shutdown on each VM this many seconds after creation'),
  images: z.array(z.string()).optional().describe('known images; default: any'),
  flavors: z.array(z.string()).optional().describe('known flavors; default: any'),
  addresses: z
    .enum(['loopback', 'private'])
    .default('loopback')
    .describe("127.0.0.1 for every VM, as the original's dummy driver gave, or private: 10.x.y.z per VM"),
  account_listing: z
    .boolean()
    .default(true)
    .describe(
      'offer one listing of the whole account per cycle (false: every preset is listed with its own call, as with a cloud or driver that has no account-wide listing, and as the original always did)',
    ),
  endpoint: z
    .url()
    .optional()
    .describe(
      'URL of a shared simulator (`vmshepherd simulator`); its own options then apply, not these (except `account_listing`)',
    ),
  token: z.string().optional().describe("the simulator's token, required with `endpoint` (never logged)"),
  state_file: z.string().optional().describe('JSON file that keeps the VMs across restarts'),
  seed: z.number().int().default(1).describe('same seed, same faults'),
  // The original's DummyIaasDriver example carried these; accepted and ignored.
  api_key: z.string().optional(),
  api_secret: z.string().optional(),
});

export type DummyOptions = z.output<typeof dummyOptionsSchema>;
export type Range = z.output<typeof range>;
