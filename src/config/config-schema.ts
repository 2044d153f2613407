import { z } from 'zod';
import { acceptsNumericText } from '../drivers/python-values.js';
import type { LogLevel } from '../observability/logger.js';
import { countOrPercent, presetSchema } from './preset-schema.js';

/** Python logging names as the original accepted them, plus pino's. */
export const LOG_LEVELS = [
  'trace',
  'debug',
  'info',
  'warn',
  'warning',
  'error',
  'critical',
  'fatal',
] as const;

export function normalizeLogLevel(level: string): LogLevel | undefined {
  const l = level.toLowerCase();
  if (l === 'warning') return 'warn';
  if (l === 'critical') return 'fatal';
  return (LOG_LEVELS as readonly string[]).includes(l) ? (l as LogLevel) : undefined;
}

const logLevel = z
  .string()
  .refine((v) => normalizeLogLevel(v) !== undefined, { message: `expected one of ${LOG_LEVELS.join(', ')}` })
  .transform((v) => normalizeLogLevel(v) as LogLevel);

const driverBlock = (defaultDriver?: string) => {
  const block = z.looseObject({ driver: z.string().min(1) });
  return defaultDriver ? block.default({ driver: defaultDriver }) : block;
};

/**
 * `defaults:` holds `iaas:` and `healthcheck:` (deep-merged under every preset, as in the original) and,
 * new in vmshepherd, any other preset key as a default.
 */
export const defaultsSchema = presetSchema.partial().extend({
  iaas: z.looseObject({ driver: z.string().min(1).optional() }).optional(),
  healthcheck: z.looseObject({ driver: z.string().min(1).optional() }).optional(),
});

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** Seconds, or a number with a unit: `45s`, `30m`, `12h`, `7d`. */
export const durationSeconds = z.union([
  z.number().positive(),
  z
    .string()
    .regex(/^\d+(\.\d+)?[smhd]$/, { message: 'expected seconds or a duration such as 45s, 30m, 12h, 7d' })
    .transform((v) => Number(v.slice(0, -1)) * (UNIT_SECONDS[v.slice(-1)] ?? 1)),
]);

export const configSchema = z.strictObject({
  strict: z
    .boolean()
    .default(false)
    .describe(
      'new: warnings (keys not read, values converted as the original did) are errors, like `check --strict`',
    ),
  presets_may_set_endpoints: z
    .boolean()
    .default(false)
    .describe(
      "new: a preset may point its driver at an endpoint of its own (auth_url, cloud, cacert...) while using the main configuration's credentials; off: such a preset is refused (preset_load_1012)",
    ),
  log_level: logLevel.default('info').describe('log level; the -l flag overrides it when given'),
  // The original passed these through int() (or to the server as they were): numeric text is converted.
  worker_interval: acceptsNumericText(z.number().positive())
    .default(5)
    .describe('seconds between two manage cycles'),
  instance_id: z
    .string()
    .min(1)
    .optional()
    .describe('name of this instance in leases and logs (default: host-pid)'),
  http: z
    .strictObject({
      listen_port: acceptsNumericText(z.number().int().min(0).max(65535)).default(8888),
      host: z.string().min(1).default('127.0.0.1').describe('address to bind; 127.0.0.1 unless configured'),
      api: z
        .strictObject({
          allowed_methods: z
            .array(z.string())
            .optional()
            .describe('JSON-RPC methods that may be called; empty or absent: all of them'),
        })
        .optional(),
      tokens: z
        .array(
          z
            .strictObject({
              name: z.string().min(1).describe('who calls: recorded in events and tasks'),
              role: z.enum(['read', 'operate']).describe('read: every GET; operate: also every action'),
              token: z
                .string()
                .min(16)
                .optional()
                .describe('the bearer token (use ${ENV}); at least 16 chars'),
              sha256: z
                .string()
                .regex(/^[0-9a-f]{64}$/)
                .optional()
                .describe('hex SHA-256 of the token, to keep it hashed at rest'),
            })
            .refine((t) => (t.token === undefined) !== (t.sha256 === undefined), {
              message: 'give exactly one of token or sha256',
            }),
        )
        .optional()
        .describe(
          'new: bearer tokens of the HTTP API and panel; without any, reads are open and actions refused',
        ),
      open_reads: z
        .boolean()
        .optional()
        .describe(
          'new: let reads (GET, read-only RPC methods, panel) through without a token even when tokens exist',
        ),
      allowed_hosts: z
        .array(z.string().min(1))
        .optional()
        .describe(
          'new: names the API may be reached by (the Host header) besides localhost, IP addresses and http.host, e.g. the name a proxy serves it under',
        ),
      rate_while_cycling: acceptsNumericText(z.number().int().min(0))
        .default(500)
        .describe(
          'new: requests per second served while a manage cycle runs, the rest wait their turn (0: no limit); the loop comes first',
        ),
      stream_max_life: acceptsNumericText(z.number().positive())
        .default(3600)
        .describe(
          'new: seconds a panel live stream stays open; then it ends and the browser loads the page again (signing in again if its token is gone)',
        ),
      max_streams: acceptsNumericText(z.number().int().min(1))
        .default(100)
        .describe('new: panel live streams open at once; one more is refused (503 api_request_2002)'),
    })
    .optional(),
  runtime: driverBlock('InMemoryDriver').describe(
    'runtime store: InMemoryDriver, PostgresDriver, ZookeeperDriver',
  ),
  presets: driverBlock().describe('preset store: DirectoryDriver or GitRepoDriver, with its options'),
  defaults: defaultsSchema.default({}),
  tracing: z
    .strictObject({
      otlp_endpoint: z
        .url()
        .optional()
        .describe('OTLP/HTTP traces endpoint (default: OTEL_EXPORTER_OTLP_* variables)'),
      headers: z
        .record(z.string(), z.string())
        .optional()
        .describe('sent with every export, e.g. an API key'),
      service_name: z.string().min(1).default('vmshepherd'),
      sample_ratio: z.number().min(0).max(1).default(1).describe('share of cycles traced'),
    })
    .optional()
    .describe('OpenTelemetry traces of cycles, manages, cloud calls and verbs'),
  manage: z
    .strictObject({
      concurrency: z
        .number()
        .int()
        .positive()
        .default(32)
        .describe('presets managed at once by this instance'),
      health_concurrency: z
        .number()
        .int()
        .positive()
        .default(256)
        .describe('health checks in flight at once'),
      events_kept: z
        .number()
        .int()
        .positive()
        .default(100)
        .describe('events kept per preset in the runtime state'),
      health_history: z.number().int().positive().default(10).describe('health results kept per VM'),
      refresh_interval: z
        .number()
        .positive()
        .default(10)
        .describe('seconds between two preset store refreshes'),
      max_unhealthy_fleet: countOrPercent
        .default('40%')
        .describe(
          'fleet-wide guard: when more than this of all health-checked VMs of this instance fail at once ' +
            '(with at least 5 checked), no VM is terminated for health anywhere',
        ),
      heap_growth: z
        .union([z.literal(0), z.number().min(1.1).max(4)])
        .default(1.3)
        .describe(
          'collect garbage once the heap has grown to this multiple of what the last collection kept ' +
            '(0: V8 decides, up to 4); lower trades CPU for memory: at 100,000 VMs (cloud in process), 1.3 ' +
            'keeps the resident memory while cycling under 285 MB for 0.83 s of CPU per cycle (1.5: peaks ' +
            'of 315 MB, 0.51 s; 0: a median of 520-680 MB, peaks near 1 GB)',
        ),
    })
    .default({
      concurrency: 32,
      health_concurrency: 256,
      events_kept: 100,
      health_history: 10,
      refresh_interval: 10,
      max_unhealthy_fleet: '40%',
      heap_growth: 1.3,
    })
    .describe('new in vmshepherd: tuning of the manage loop'),
  limits: z
    .strictObject({
      disruptions_per_host: z
        .number()
        .int()
        .positive()
        .optional()
        .describe('disruptive calls at once on one physical host (the cloud host id), across all presets'),
      disruptions_per_az: z
        .number()
        .int()
        .positive()
        .optional()
        .describe('disruptive calls at once in one availability zone of one account, across all presets'),
      disruptions_per_account: z
        .number()
        .int()
        .positive()
        .optional()
        .describe('disruptive calls at once in one cloud account, across all presets'),
    })
    .optional()
    .describe(
      'new: infrastructure locks (docs/locks.md): terminate of a live VM, reboot, rebuild, resize and stop wait for a free slot at each level given; absent: no limit at that level',
    ),
  tasks: z
    .strictObject({
      keep: durationSeconds
        .default(604_800)
        .describe('how long finished tasks are kept in the runtime store (seconds, or 45s, 30m, 12h, 7d)'),
      stop_timeout: durationSeconds
        .default(300)
        .describe('how long a verb waits for its stopped VM to show stopped before the task fails'),
    })
    .default({ keep: 604_800, stop_timeout: 300 })
    .describe('new in vmshepherd: verbs asked of VMs, kept as task records in the runtime store'),
});

export type ConfigInput = z.input<typeof configSchema>;
export type ConfigOutput = z.output<typeof configSchema>;
