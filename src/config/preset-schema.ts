import { z } from 'zod';
import { SERVER_GROUP_POLICIES } from '../drivers/types.js';
import { countSchema } from './demand-schema.js';
import { hooksSchema } from './hooks-schema.js';
import { quarantineSchema } from './quarantine-schema.js';

/** Seconds, as the original wrote them (numbers). */
const seconds = z.number().nonnegative();

/** A count (`2`) or a share of the preset's VMs (`"40%"`). */
export const countOrPercent = z.union([
  z.number().int().nonnegative(),
  z.string().regex(/^\d+(\.\d+)?%$/, 'expected a count like 2 or a percentage like "40%"'),
]);
export type CountOrPercent = z.infer<typeof countOrPercent>;

/** A meta tag: any YAML value the original accepted (it returned them as they were through its API). */
const metaTagValue = z.union([
  z.string(),
  z.number(),
  z.boolean(),
  z.null(),
  z.array(z.json()),
  z.record(z.string(), z.json()),
]);

/** Keys of the `iaas:` block that the core reads; every other key is the driver's. */
export const iaasCoreSchema = z.looseObject({
  driver: z.string().min(1).describe('IaaS driver name, e.g. DummyIaasDriver or OpenStackDriver'),
  limits: z
    .strictObject({
      max_concurrent_calls: z
        .number()
        .int()
        .positive()
        .default(32)
        .describe('cloud calls in flight per account'),
      calls_per_second: z.number().nonnegative().default(0).describe('0 = no rate limit'),
    })
    .optional()
    .describe('per cloud account: shared by every preset that uses the same account'),
  shutdown_grace_period: seconds
    .default(900)
    .describe('seconds before iaas_timed_shutdown when a replacement is started (the original: 900)'),
});
export const IAAS_CORE_KEYS = ['driver', 'limits', 'shutdown_grace_period'] as const;

/** Keys of the `healthcheck:` block that the core reads (the health policy); the rest is the driver's. */
export const healthCoreSchema = z.looseObject({
  driver: z.string().min(1).describe('health check driver name, e.g. HttpHealthcheck'),
  unhealthy_threshold: z
    .number()
    .int()
    .positive()
    .default(5)
    .describe('consecutive failed checks before a VM is replaced (the original: 5)'),
  terminate_heatlh_failed_delay: z
    .number()
    .min(-1)
    .default(-1)
    .describe(
      'seconds a VM must keep failing before it is replaced; -1 never replaces (key spelled as the original reads it)',
    ),
  startup_grace: seconds
    .default(0)
    .describe('seconds after creation during which failed checks do not count'),
  max_unhealthy: countOrPercent
    .default('40%')
    .describe('mass-deletion guard: when more VMs than this fail at once, none is terminated for health'),
  timeout: seconds.default(10).describe('seconds after which a check that has not answered counts as failed'),
  remedy: z
    .array(z.enum(['reboot', 'rebuild', 'replace']))
    .min(1)
    .default(['replace'])
    .describe('what is done to an unhealthy VM, one step per time it turns unhealthy; the last step repeats'),
  quarantine: quarantineSchema.optional(),
});
export const HEALTH_CORE_KEYS = [
  'driver',
  'unhealthy_threshold',
  'terminate_heatlh_failed_delay',
  'startup_grace',
  'max_unhealthy',
  'timeout',
  'remedy',
  'quarantine',
] as const;

const subnetEntry = z.union([
  z.string().min(1),
  z.strictObject({ 'net-id': z.string().min(1) }),
  z.strictObject({ name: z.string().min(1) }),
]);

const fixedIp = z
  .string()
  .min(1)
  .describe('the fixed IP of the interface (a preset of one VM: an address is taken once)');
const nicEntry = z.union([
  z.strictObject({ id: z.string().min(1).describe('network id'), fixed_ip: fixedIp.optional() }),
  z.strictObject({ name: z.string().min(1).describe('network name'), fixed_ip: fixedIp.optional() }),
  z.strictObject({
    port: z.string().min(1).describe('id of an existing port (a preset of one VM: a port is attached once)'),
  }),
]);

export const networkSchema = z.strictObject({
  security_groups: z.array(z.string().min(1)).optional(),
  availability_zone: z
    .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
    .optional()
    .describe(
      'a zone, or a list of zones the VMs are spread over evenly (a zone without capacity is skipped for create_backoff.quota_window)',
    ),
  subnets: z.array(subnetEntry).optional().describe('networks by id or name: [{net-id: ID}] or [name]'),
  subnet: z
    .union([z.string().min(1), z.array(subnetEntry)])
    .optional()
    .describe("the original's example spelling of subnets (names)"),
  networks: z
    .array(nicEntry)
    .optional()
    .describe(
      'interfaces after those of subnets, in order: [{id: NET}, {name: NET, fixed_ip: 10.0.0.5}, {port: PORT}]',
    ),
});

export const volumeSchema = z.strictObject({
  size: z.number().int().positive().describe('GB of the root volume'),
  type: z.string().min(1).optional().describe("volume type (the cloud's default when absent)"),
  delete_on_termination: z
    .boolean()
    .default(true)
    .describe('delete the volume with the VM (false keeps it, and every replaced VM leaves one)'),
});

const flavorSchema = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

export const scaleInOrders = ['unhealthy_newest', 'unhealthy_oldest', 'newest', 'oldest'] as const;

/**
 * One preset. Top-level keys the schema does not know are kept and available to the userdata template,
 * as in the original; nested blocks are strict.
 */
export const presetSchema = z.looseObject({
  name: z
    .string()
    .regex(/^[^\s/]+$/, 'a preset name has no spaces or slashes')
    .describe('preset id'),
  count: countSchema.describe('desired number of VMs, or {min, max, target, schedule} (docs/demand.md)'),
  image: z.string().min(1).optional(),
  flavor: flavorSchema
    .optional()
    .describe('a flavor, or a list tried in order when the cloud has no capacity for the ones before'),
  flavour: flavorSchema.optional().describe('accepted spelling of flavor'),
  manage_interval: seconds.default(60).describe('minimum seconds between two manages of this preset'),
  manage_expire: z
    .number()
    .positive()
    .default(120)
    .describe('lease time-to-live in seconds: another instance may take the preset over after it'),
  unmanaged: z.boolean().default(false).describe('observe and health-check only; never create or terminate'),
  network: networkSchema.optional(),
  key_name: z.string().min(1).optional(),
  volume: volumeSchema
    .optional()
    .describe('boot from a new volume made from the image; a change of it replaces the VMs'),
  config_drive: z.boolean().optional().describe('attach a config drive; a change of it replaces the VMs'),
  userdata: z.string().optional().describe('cloud-init text or file://relative/path; a Jinja template'),
  userdata_source_root: z.string().min(1).optional(),
  meta_tags: z
    .record(z.string(), metaTagValue)
    .optional()
    .describe('VM metadata (non-text values as their JSON text), shown in the API with their YAML types'),
  iaas: iaasCoreSchema.describe('IaaS driver and its options (deep-merged over defaults.iaas)'),
  healthcheck: healthCoreSchema.optional(),
  panel_links: z.record(z.string(), z.string()).optional(),
  // New in vmshepherd
  scale_in_order: z.enum(scaleInOrders).default('unhealthy_newest').describe('which surplus VMs go first'),
  boot_timeout: z
    .number()
    .positive()
    .default(900)
    .describe('seconds a VM may stay pending before it is replaced'),
  create_concurrency: z
    .number()
    .int()
    .positive()
    .default(10)
    .describe('creates of this preset in flight at once'),
  update: z
    .strictObject({
      strategy: z
        .enum(['replace', 'in_place', 'on_delete'])
        .default('replace')
        .describe('how outdated VMs (built from an older spec) are brought up to date'),
      max_surge: countOrPercent.default(1).describe('VMs allowed above count while replacing'),
      max_unavailable: countOrPercent
        .default(0)
        .describe(
          "VMs that may be not ready below count at once: the one disruption budget of rollouts, scale-in and operators' verbs",
        ),
      min_ready: seconds
        .default(0)
        .describe('seconds a new VM must pass its checks before it counts as ready'),
    })
    .optional(),
  scrub_grace: seconds
    .default(3600)
    .describe('seconds a scrubbed VM is kept (stopped, restorable) before it is deleted'),
  adopt_by_name: z
    .boolean()
    .default(true)
    .describe(
      "adopt VMs named exactly after the preset that carry no vmshepherd metadata (the original VmShepherd's): counted, never duplicated",
    ),
  server_group: z
    .union([
      z.strictObject({
        policy: z
          .enum(SERVER_GROUP_POLICIES)
          .describe('a server group vmshepherd creates and owns for this preset, with this scheduler policy'),
      }),
      z.strictObject({ id: z.string().min(1).describe('an existing server group, by id') }),
    ])
    .optional()
    .describe(
      "the server group the preset's VMs join (anti-affinity: each on its own host); new VMs only, never a move",
    ),
  hooks: hooksSchema.optional(),
  create_backoff: z
    .strictObject({
      initial: z
        .number()
        .positive()
        .default(10)
        .describe('seconds before the first retry after failed creates'),
      max: z.number().positive().default(600).describe('longest wait between retries'),
      quota_window: z
        .number()
        .positive()
        .default(300)
        .describe(
          'seconds creation of a flavor stops after a quota or capacity error (and a zone of a spread is skipped)',
        ),
    })
    .optional(),
});

export type PresetInput = z.input<typeof presetSchema>;
export type PresetOutput = z.output<typeof presetSchema>;

/** Keys the preset schema knows at the top level; others are template variables. */
export const PRESET_KEYS = Object.keys(presetSchema.shape);
