import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { DriverRegistry } from '../drivers/registry.js';
import { ShepherdError } from '../errors/shepherd-error.js';
import { isPlainObject } from '../util/deep-merge.js';
import { type ConfigOutput, configSchema, type LogLevel } from './config-schema.js';
import { DriverOptionsValidator, liftDriverParams, splitBlock } from './driver-block.js';
import { HEALTH_CORE_KEYS, IAAS_CORE_KEYS } from './preset-schema.js';
import { issuesToErrors, type SourceLayer } from './report-issues.js';
import { YamlSource } from './yaml-source.js';
import { zodIssues } from './zod-issues.js';

/** The `http` block's settings when the config has none. */
const HTTP_DEFAULTS = configSchema.shape.http.unwrap().parse({});

export interface DriverSelection {
  driver: string;
  /** Validated by the driver. Never logged or shown: they may hold secrets. */
  options: Record<string, unknown>;
}

/** The main configuration, validated, with command line overrides applied. */
export interface ShepherdConfig {
  file: string;
  baseDir: string;
  /** Hash of the file's text, to tell whether a reload changed anything. */
  revision: string;
  logLevel: LogLevel;
  workerIntervalMs: number;
  instanceId: string | undefined;
  http: {
    listenPort: number;
    host: string;
    allowedMethods: string[] | undefined;
    enabled: boolean;
    /** Bearer tokens, kept only as SHA-256 hashes. */
    tokens: { name: string; role: 'read' | 'operate'; sha256: string }[];
    /** Reads need no token: when no token is configured (the original's behaviour), or when opened. */
    openReads: boolean;
    /** Requests per second let through while a cycle runs (0: no limit); see RequestGate. */
    rateWhileCycling: number;
  };
  runtime: DriverSelection;
  presets: DriverSelection;
  /** `defaults:` as written (validated as a partial preset); merged under each preset. */
  defaults: Record<string, unknown>;
  /** Positions of the defaults, for errors about merged presets. */
  defaultsLayer: SourceLayer;
  manage: ConfigOutput['manage'];
  /** Set when traces are exported (the `tracing:` section or the OTEL_EXPORTER_OTLP_* environment). */
  tracing: ConfigOutput['tracing'];
}

/** Command line flags: each overrides the file only when given. */
export interface ConfigOverrides {
  logLevel?: LogLevel;
  port?: number;
}

export async function loadConfig(
  file: string,
  registry: DriverRegistry,
  options: { env?: NodeJS.ProcessEnv; overrides?: ConfigOverrides } = {},
): Promise<{ config?: ShepherdConfig; errors: ShepherdError[] }> {
  const path = resolve(file);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    return {
      errors: [new ShepherdError('config_load_2001', `${file}: ${(err as Error).message}`, { cause: err })],
    };
  }
  return parseConfig(text, file, registry, options);
}

export async function parseConfig(
  text: string,
  file: string,
  registry: DriverRegistry,
  { env = process.env, overrides = {} }: { env?: NodeJS.ProcessEnv; overrides?: ConfigOverrides } = {},
): Promise<{ config?: ShepherdConfig; errors: ShepherdError[] }> {
  const parsed = YamlSource.parse(text, file, 'config_load_1001');
  if (!parsed.source) return { errors: parsed.errors };
  const source = parsed.source;
  const envErrors = source.interpolateEnv(env, 'config_load_1004');
  const raw = source.toJS();
  if (!isPlainObject(raw)) {
    return {
      errors: [
        new ShepherdError('config_load_1002', 'the file must be a mapping of keys', {
          at: source.position([]),
        }),
      ],
    };
  }
  for (const key of ['runtime', 'presets'] as const) raw[key] = liftDriverParams(raw[key]);
  if (isPlainObject(raw.defaults)) {
    for (const key of ['iaas', 'healthcheck'] as const)
      raw.defaults[key] = liftDriverParams(raw.defaults[key]);
  }

  const layers: SourceLayer[] = [{ source, prefix: [] }];
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const errors = issuesToErrors(zodIssues(result.error, configSchema), layers, {
      invalid: 'config_load_1002',
      unknown: 'config_load_1003',
    });
    return { errors: [...envErrors, ...errors] };
  }
  const c = result.data;
  const errors: ShepherdError[] = [...envErrors];
  const validator = new DriverOptionsValidator(registry);
  const codes = { invalid: 'driver_options_1001', unknown: 'config_load_1003' } as const;

  const selection = async (
    kind: 'runtime' | 'presets',
    block: Record<string, unknown>,
  ): Promise<DriverSelection | undefined> => {
    const { driver, ...rest } = block as { driver: string };
    const v = await validator.validate(kind, driver, rest, layers, [kind], ['driver'], codes);
    errors.push(...v.errors);
    return v.options ? { driver, options: v.options } : undefined;
  };
  const runtime = await selection('runtime', c.runtime);
  const presets = await selection('presets', c.presets);

  // Defaults are partial: only unknown keys can be judged here; the rest is checked per merged preset.
  for (const [block, coreKeys] of [
    ['iaas', IAAS_CORE_KEYS],
    ['healthcheck', HEALTH_CORE_KEYS],
  ] as const) {
    const value = c.defaults[block] as Record<string, unknown> | undefined;
    if (!value?.driver) continue;
    const { options } = splitBlock(value, coreKeys);
    const kind = block === 'iaas' ? 'iaas' : 'healthcheck';
    const v = await validator.validate(
      kind,
      String(value.driver),
      options,
      layers,
      ['defaults', block],
      coreKeys,
      codes,
    );
    errors.push(...v.errors.filter((e) => e.code !== 'driver_options_1001'));
  }

  if (errors.length > 0 || !runtime || !presets) return { errors };
  const baseDir = dirname(resolve(file));
  // Without an http block the server is off unless --port is given; its settings are then the schema's
  // defaults, taken from the schema rather than repeated here.
  const http = c.http ?? HTTP_DEFAULTS;
  return {
    config: {
      file,
      baseDir,
      revision: createHash('sha256').update(text).digest('hex').slice(0, 16),
      logLevel: overrides.logLevel ?? c.log_level,
      workerIntervalMs: c.worker_interval * 1000,
      instanceId: c.instance_id,
      http: {
        listenPort: overrides.port ?? http.listen_port,
        host: http.host,
        allowedMethods: http.api?.allowed_methods,
        enabled: c.http !== undefined || overrides.port !== undefined,
        tokens: (http.tokens ?? []).map((t) => ({
          name: t.name,
          role: t.role,
          sha256:
            t.sha256 ??
            createHash('sha256')
              .update(t.token ?? '')
              .digest('hex'),
        })),
        openReads: (http.tokens ?? []).length === 0 || http.open_reads === true,
        rateWhileCycling: http.rate_while_cycling,
      },
      runtime,
      presets,
      // As written, not as parsed: schema defaults are applied once, to each merged preset.
      defaults: (raw.defaults ?? {}) as Record<string, unknown>,
      defaultsLayer: { source, prefix: ['defaults'] },
      manage: c.manage,
      tracing: c.tracing,
    },
    errors: [],
  };
}
