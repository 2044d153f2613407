import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { coerceLikePython } from '../drivers/python-values.js';
import type { DriverRegistry } from '../drivers/registry.js';
import type { OptionIssue, OptionsResult } from '../drivers/types.js';
import { keysAt, zodIssues } from '../drivers/zod-options.js';
import { ShepherdError } from '../errors/shepherd-error.js';
import type { LogLevel } from '../observability/logger.js';
import { isPlainObject } from '../util/deep-merge.js';
import { didYouMean } from '../util/suggest.js';
import { YamlSource } from '../util/yaml-source.js';
import { type ConfigOutput, configSchema } from './config-schema.js';
import { DriverOptionsValidator, liftDriverParams, splitBlock } from './driver-block.js';
import { parseIgnoringUnknown } from './ignore-unknown.js';
import { type DisruptionLimits, limitsOf } from './limits.js';
import { HEALTH_CORE_KEYS, IAAS_CORE_KEYS } from './preset-schema.js';
import { dotted, issuesToErrors, issueWarnings, type SourceLayer, strictly } from './report-issues.js';

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
    /** Host names (lower case, no port) requests may name besides loopback names, IPs and `host`. */
    allowedHosts: string[];
    /** How long a panel stream stays open, in ms. */
    streamMaxLifeMs: number;
    /** Panel streams open at once. */
    maxStreams: number;
  };
  runtime: DriverSelection;
  presets: DriverSelection;
  /** `defaults:` as written (validated as a partial preset); merged under each preset. */
  defaults: Record<string, unknown>;
  /** Positions of the defaults, for errors about merged presets. */
  defaultsLayer: SourceLayer;
  manage: ConfigOutput['manage'];
  /** Task records: `keep` is seconds. */
  tasks: ConfigOutput['tasks'];
  /** Infrastructure locks: disruptions at once per level (docs/locks.md); empty: no limit. */
  limits: DisruptionLimits;
  /** Set when traces are exported (the `tracing:` section or the OTEL_EXPORTER_OTLP_* environment). */
  tracing: ConfigOutput['tracing'];
  /** `strict: true` or `check --strict`: preset warnings are errors too. */
  strict: boolean;
  /** Presets may point a driver elsewhere with the main configuration's credentials (off by default). */
  presetsMaySetEndpoints: boolean;
  /** Of the main file, logged when it is loaded. */
  warnings: ShepherdError[];
}

/** Command line flags: each overrides the file only when given. */
export interface ConfigOverrides {
  logLevel?: LogLevel;
  port?: number;
}

export async function loadConfig(
  file: string,
  registry: DriverRegistry,
  options: ConfigOptions = {},
): Promise<ConfigResult> {
  const path = resolve(file);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    return {
      errors: [new ShepherdError('config_load_2001', `${file}: ${(err as Error).message}`, { cause: err })],
      warnings: [],
    };
  }
  return parseConfig(text, file, registry, options);
}

export interface ConfigOptions {
  env?: NodeJS.ProcessEnv;
  overrides?: ConfigOverrides;
  /** `check --strict`: warnings are errors (as with `strict: true` in the file). */
  strict?: boolean;
}

export interface ConfigResult {
  config?: ShepherdConfig;
  errors: ShepherdError[];
  /** What the original accepted and vmshepherd accepts too: ignored keys, converted values. */
  warnings: ShepherdError[];
}

/** How the config reports a driver block's bad values and unknown keys. */
const OPTION_CODES = { invalid: 'driver_options_1001', unknown: 'config_load_1003' } as const;

/** Where an unknown key is ignored with a warning: the places the original read keys from. */
function ignorableConfigKey(issue: OptionIssue): boolean {
  const [head, second] = issue.path;
  if (issue.path.length === 1) return true;
  return head === 'http' && (issue.path.length === 2 || (second === 'api' && issue.path.length === 3));
}

export async function parseConfig(
  text: string,
  file: string,
  registry: DriverRegistry,
  { env = process.env, overrides = {}, strict: strictFlag = false }: ConfigOptions = {},
): Promise<ConfigResult> {
  const read = readConfigYaml(text, file, env);
  if ('errors' in read) return { errors: read.errors, warnings: [] };
  const { source, raw, envErrors, parsed } = read;

  const layers: SourceLayer[] = [{ source, prefix: [] }];
  const { result, warnings, strict } = readValues(raw, layers, strictFlag);
  warnings.unshift(...parsed.warnings);
  const finish = (errors: ShepherdError[], config?: ShepherdConfig): ConfigResult => {
    const settled = strictly({ errors, warnings }, strict);
    return { ...(config && settled.errors.length === 0 ? { config } : {}), ...settled };
  };
  if (!result.ok) {
    const errors = issuesToErrors(result.issues, layers, {
      invalid: 'config_load_1002',
      unknown: 'config_load_1003',
    });
    return finish([...envErrors, ...errors]);
  }
  const c = result.value;
  const errors: ShepherdError[] = [...envErrors];
  const validator = new DriverOptionsValidator(registry);

  const selection = async (
    kind: 'runtime' | 'presets',
    block: Record<string, unknown>,
  ): Promise<DriverSelection | undefined> => {
    const { driver, ...rest } = block as { driver: string };
    const v = await validator.validate(kind, driver, rest, layers, [kind], ['driver'], OPTION_CODES);
    errors.push(...v.errors);
    warnings.push(...v.warnings);
    return v.options ? { driver, options: v.options } : undefined;
  };
  const runtime = await selection('runtime', c.runtime);
  const presets = await selection('presets', c.presets);

  await checkDefaults(c.defaults, validator, layers, errors, warnings);

  // Without an http block the server is off unless --port is given; its settings are then the schema's
  // defaults, taken from the schema rather than repeated here.
  const http = c.http ?? HTTP_DEFAULTS;
  const httpEnabled = c.http !== undefined || overrides.port !== undefined;
  if (httpEnabled) errors.push(...exposureErrors(http));
  if (errors.length > 0 || !runtime || !presets) return finish(errors);
  const baseDir = dirname(resolve(file));
  return finish([], {
    file,
    baseDir,
    revision: createHash('sha256').update(text).digest('hex').slice(0, 16),
    logLevel: overrides.logLevel ?? c.log_level,
    workerIntervalMs: c.worker_interval * 1000,
    instanceId: c.instance_id,
    http: httpSettings(http, httpEnabled, overrides.port),
    runtime,
    presets,
    // As written, not as parsed: schema defaults are applied once, to each merged preset.
    defaults: (raw.defaults ?? {}) as Record<string, unknown>,
    defaultsLayer: { source, prefix: ['defaults'] },
    manage: c.manage,
    tasks: c.tasks,
    limits: limitsOf(c.limits),
    tracing: c.tracing,
    strict,
    presetsMaySetEndpoints: c.presets_may_set_endpoints,
    warnings: strict ? [] : warnings,
  });
}

/** The file as YAML with positions and `${VAR}` filled in, refused when broken or not a mapping. */
function readConfigYaml(
  text: string,
  file: string,
  env: NodeJS.ProcessEnv,
):
  | {
      source: YamlSource;
      raw: Record<string, unknown>;
      envErrors: ShepherdError[];
      parsed: { warnings: ShepherdError[] };
    }
  | { errors: ShepherdError[] } {
  const parsed = YamlSource.parse(text, file, { syntax: 'config_load_1001', duplicate: 'config_load_1006' });
  if (!parsed.source) return { errors: parsed.errors };
  const source = parsed.source;
  const envErrors = source.interpolateEnv(env, 'config_load_1004');
  const raw = source.toJS();
  if (!isPlainObject(raw))
    return {
      errors: [
        new ShepherdError('config_load_1002', 'the file must be a mapping of keys', {
          at: source.position([]),
        }),
      ],
    };
  for (const key of ['runtime', 'presets'] as const) raw[key] = liftDriverParams(raw[key]);
  if (isPlainObject(raw.defaults)) {
    for (const key of ['iaas', 'healthcheck'] as const)
      raw.defaults[key] = liftDriverParams(raw.defaults[key]);
  }
  return { source, raw, envErrors, parsed };
}

async function checkDefaults(
  defaults: Record<string, unknown>,
  validator: DriverOptionsValidator,
  layers: SourceLayer[],
  errors: ShepherdError[],
  warnings: ShepherdError[],
): Promise<void> {
  // Defaults are partial: only keys can be judged here; values are checked per merged preset (which
  // report the same warnings, with the same text, so each is shown once).
  for (const [block, coreKeys] of [
    ['iaas', IAAS_CORE_KEYS],
    ['healthcheck', HEALTH_CORE_KEYS],
  ] as const) {
    const value = defaults[block] as Record<string, unknown> | undefined;
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
      OPTION_CODES,
    );
    errors.push(...v.errors.filter((e) => e.code !== 'driver_options_1001'));
    warnings.push(...v.warnings.filter((w) => w.code === 'driver_options_1002'));
  }
}

/** The `http` block in force (`port`: the command line's --port). */
function httpSettings(
  http: NonNullable<ConfigOutput['http']>,
  enabled: boolean,
  port: number | undefined,
): ShepherdConfig['http'] {
  return {
    listenPort: port ?? http.listen_port,
    host: http.host,
    // Empty or absent: every method, as in the original (which only checked a non-empty list).
    allowedMethods: http.api?.allowed_methods?.length ? http.api.allowed_methods : undefined,
    enabled,
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
    allowedHosts: (http.allowed_hosts ?? []).map((h) => h.toLowerCase()),
    streamMaxLifeMs: http.stream_max_life * 1000,
    maxStreams: http.max_streams,
  };
}

/**
 * A server bound beyond loopback without any token would open every read to the network: refused unless
 * `open_reads: true` says it is meant.
 */
function exposureErrors(http: NonNullable<ConfigOutput['http']>): ShepherdError[] {
  if (isLoopback(http.host) || (http.tokens ?? []).length > 0 || http.open_reads === true) return [];
  return [new ShepherdError('config_load_1008', `http.host: ${http.host} with no http.tokens`)];
}

/** Loopback bind addresses: only this machine can connect. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/**
 * The file's values as the schema reads them: converted as Python used them, keys nothing reads dropped
 * where the original ignored them; each a warning. `strict` is the flag's or the file's.
 */
function readValues(
  raw: Record<string, unknown>,
  layers: SourceLayer[],
  strictFlag: boolean,
): { result: OptionsResult<ConfigOutput>; warnings: ShepherdError[]; strict: boolean } {
  const coerced = coerceLikePython(configSchema, raw);
  const value = coerced.value as Record<string, unknown>;
  const { result, ignored } = parseIgnoringUnknown(
    (v): OptionsResult<ConfigOutput> => {
      const r = configSchema.safeParse(v);
      return r.success
        ? { ok: true, value: r.data }
        : { ok: false, issues: zodIssues(r.error, configSchema) };
    },
    value,
    ignorableConfigKey,
  );
  const warnings = [
    ...issueWarnings(ignored, layers, 'config_load_1005', [], (i) => {
      const known = keysAt(configSchema, i.path.slice(0, -1)) ?? [];
      return `'${dotted(i.path)}'${didYouMean(String(i.unknownKey), known)}`;
    }),
    // Values under `defaults:` are reported by the presets they are merged into (once, at their place here).
    ...issueWarnings(
      coerced.coercions.filter((c) => c.path[0] !== 'defaults'),
      layers,
      'config_load_1007',
      [],
      (i) => `${dotted(i.path)}: ${i.message}`,
    ),
  ];
  return { result, warnings, strict: strictFlag || value.strict === true };
}
