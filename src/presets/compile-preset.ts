import { resolve } from 'node:path';
import type { DriverOptionsValidator } from '../config/driver-block.js';
import { liftDriverParams, splitBlock } from '../config/driver-block.js';
import {
  HEALTH_CORE_KEYS,
  IAAS_CORE_KEYS,
  PRESET_KEYS,
  type PresetOutput,
  presetSchema,
} from '../config/preset-schema.js';
import {
  dotted,
  issuesToErrors,
  issueWarnings,
  type SourceLayer,
  strictly,
} from '../config/report-issues.js';
import { presetTooLarge } from '../drivers/presets/preset-too-large.js';
import { coerceLikePython } from '../drivers/python-values.js';
import type {
  DriverDefinition,
  NetworkSpec,
  NicSpec,
  OptionIssue,
  PresetSource,
  VolumeSpec,
} from '../drivers/types.js';
import { zodIssues } from '../drivers/zod-options.js';
import { ShepherdError, type SourcePosition } from '../errors/shepherd-error.js';
import { deepMerge, isPlainObject } from '../util/deep-merge.js';
import { closestKey } from '../util/suggest.js';
import { YamlSource } from '../util/yaml-source.js';
import type { DriverUse, JsonValue, Preset } from './preset.js';
import { quarantinePolicyOf } from './quarantine-policy.js';
import {
  isInside,
  markWholeFloats,
  readUserdataFile,
  renderTemplate,
  templateContext,
} from './render-userdata.js';
import { declaredSpec, specHashOf, specPartsOf } from './spec-parts.js';

export interface CompileContext {
  validator: DriverOptionsValidator;
  /** The main config's `defaults:` as written. */
  defaults: Record<string, unknown>;
  defaultsLayer?: SourceLayer;
  /** `userdata_source_root` from the main config (trusted: set by the operator), resolved. */
  trustedUserdataRoot?: string;
  /** `strict: true` in the main config or `check --strict`: a preset with warnings is not managed. */
  strict?: boolean;
  /** `presets_may_set_endpoints: true`: a preset may send the main configuration's credentials elsewhere. */
  presetsMaySetEndpoints?: boolean;
}

/** A file the compiled preset depends on besides its own (file:// userdata): recompiled when it changes. */
export interface Dependency {
  path: string;
  mtimeMs: number;
}

export interface CompileResult {
  preset?: Preset;
  errors: ShepherdError[];
  /** The preset is managed, but something looks wrong (e.g. a misspelled top-level key). */
  warnings: ShepherdError[];
  dependencies: Dependency[];
}

const VALUE_CODES = { invalid: 'preset_load_1002', unknown: 'preset_load_1003' } as const;
const DRIVER_CODES = { invalid: 'driver_options_1001', unknown: 'preset_load_1003' } as const;

/** Parses, merges, validates and renders one preset file. Errors point at file:line:col. */
export { MAX_PRESET_BYTES } from '../drivers/presets/preset-too-large.js';

export async function compilePreset(
  source: PresetSource,
  text: string,
  ctx: CompileContext,
): Promise<CompileResult> {
  const read = readPresetYaml(source, text);
  if ('errors' in read) return { errors: read.errors, warnings: [], dependencies: [] };
  const { yaml, raw } = read;
  const warnings = [...read.warnings, ...typoWarnings(raw, yaml)];
  const layers: SourceLayer[] = [
    { source: yaml, prefix: [] },
    ...(ctx.defaultsLayer ? [ctx.defaultsLayer] : []),
  ];
  const merged = mergeWithDefaults(ctx.defaults, raw);
  const coerced = coerceLikePython(presetSchema, merged);
  warnings.push(...issueWarnings(coerced.coercions, layers, 'preset_load_1009', [], valueWarning));
  // Under `strict: true` a preset with warnings is not managed: its warnings are its errors.
  const settle = (r: CompileResult): CompileResult => {
    const settled = strictly(r, ctx.strict);
    return settled.errors.length > 0 ? { ...settled, preset: undefined } : settled;
  };

  const result = presetSchema.safeParse(coerced.value);
  if (!result.success)
    return settle({
      errors: issuesToErrors(zodIssues(result.error, presetSchema), layers, VALUE_CODES),
      warnings,
      dependencies: [],
    });
  const p = result.data;
  const errors: ShepherdError[] = [];

  if (p.flavor && p.flavour && String(p.flavor) !== String(p.flavour)) {
    errors.push(
      new ShepherdError('preset_load_1007', `flavor '${p.flavor}', flavour '${p.flavour}'`, {
        at: yaml.position(['flavour']),
      }),
    );
  }
  const iaas = await driverUse(ctx, 'iaas', p.iaas, IAAS_CORE_KEYS, layers, errors, warnings, raw.iaas);
  const health = p.healthcheck
    ? await driverUse(ctx, 'healthcheck', p.healthcheck, HEALTH_CORE_KEYS, layers, errors, warnings)
    : null;
  const metaTags = p.meta_tags ?? {};
  const metaTagText = metadataText(metaTags);
  warnings.push(...issueWarnings(metaTagText.converted, layers, 'preset_load_1009', [], valueWarning));

  const name = `${source.namePrefix ?? ''}${p.name}`;
  const dependencies: Dependency[] = [];
  let userdata: string | undefined;
  try {
    userdata = await renderUserdata(
      p,
      { ...merged, name, meta_tags: merged.meta_tags ?? {} },
      source,
      raw,
      layers,
      ctx,
      dependencies,
    );
  } catch (err) {
    if (!(err instanceof ShepherdError)) throw err;
    errors.push(err);
  }
  if (errors.length > 0 || !iaas || (p.healthcheck && !health))
    return settle({ errors, warnings, dependencies });

  const preset = assemble(p, name, source, raw, {
    iaas,
    health: health ?? null,
    userdata,
    metaTags,
    metaTagText: metaTagText.text,
  });
  return settle({ preset, errors: [], warnings, dependencies });
}

/** What compiling a preset resolved besides its own keys: its drivers, userdata and metadata. */
interface Resolved {
  iaas: Omit<Preset['iaas'], 'limits' | 'shutdownGraceMs'>;
  health: DriverUse | null;
  userdata: string | undefined;
  metaTags: Preset['metaTags'];
  metaTagText: Preset['metaTagText'];
}

/** The preset a validated file describes (pure). */
function assemble(
  p: PresetOutput,
  name: string,
  source: PresetSource,
  raw: Record<string, unknown>,
  parts: Resolved,
): Preset {
  const network = normalizeNetwork(p.network);
  const flavors = [...new Set([p.flavor ?? p.flavour ?? []].flat())];
  const flavor = flavors[0];
  const zones = [...new Set([p.network?.availability_zone ?? []].flat())];
  const volume = p.volume ? volumeSpec(p.volume) : undefined;
  const configDrive = p.config_drive === true;
  const spec = declaredSpec({
    volume,
    configDrive,
    image: p.image,
    flavor,
    flavors,
    zones,
    network,
    keyName: p.key_name,
    userdata: parts.userdata,
  });
  const preset: Preset = {
    name,
    source: { id: source.id, file: source.file, revision: source.revision },
    count: p.count,
    ...(p.image ? { image: p.image } : {}),
    ...(flavor ? { flavor } : {}),
    flavors,
    zones,
    ...(p.key_name ? { keyName: p.key_name } : {}),
    network,
    ...(p.server_group ? { serverGroup: p.server_group } : {}),
    ...(volume ? { volume } : {}),
    ...(configDrive ? { configDrive } : {}),
    ...(parts.userdata ? { userdata: parts.userdata } : {}),
    metaTags: parts.metaTags,
    metaTagText: parts.metaTagText,
    panelLinks: p.panel_links ?? {},
    manageIntervalMs: p.manage_interval * 1000,
    leaseTtlMs: p.manage_expire * 1000,
    unmanaged: p.unmanaged,
    iaas: {
      ...parts.iaas,
      limits: {
        maxConcurrentCalls: p.iaas.limits?.max_concurrent_calls ?? 32,
        callsPerSecond: p.iaas.limits?.calls_per_second ?? 0,
      },
      shutdownGraceMs: p.iaas.shutdown_grace_period * 1000,
    },
    healthcheck: healthcheckOf(p, parts.health),
    scaleInOrder: p.scale_in_order,
    bootTimeoutMs: p.boot_timeout * 1000,
    createConcurrency: p.create_concurrency,
    update: updatePolicyOf(p),
    scrubGraceMs: p.scrub_grace * 1000,
    adoptByName: p.adopt_by_name,
    createBackoff: createBackoffOf(p),
    specHash: specHashOf(spec),
    specParts: specPartsOf(spec),
    extra: Object.fromEntries(Object.entries(raw).filter(([k]) => !PRESET_KEYS.includes(k))),
  };
  return preset;
}

function healthcheckOf(p: PresetOutput, health: DriverUse | null): Preset['healthcheck'] {
  if (!health || !p.healthcheck) return null;
  return {
    ...health,
    policy: {
      unhealthyThreshold: p.healthcheck.unhealthy_threshold,
      failedDelay: p.healthcheck.terminate_heatlh_failed_delay,
      startupGrace: p.healthcheck.startup_grace,
      maxUnhealthy: p.healthcheck.max_unhealthy,
      timeoutMs: p.healthcheck.timeout * 1000,
      remedies: p.healthcheck.remedy,
      ...quarantinePolicyOf(p.healthcheck.quarantine),
    },
  };
}

function updatePolicyOf(p: PresetOutput): Preset['update'] {
  return {
    strategy: p.update?.strategy ?? 'replace',
    maxSurge: p.update?.max_surge ?? 1,
    maxUnavailable: p.update?.max_unavailable ?? 0,
    minReadyMs: (p.update?.min_ready ?? 0) * 1000,
  };
}

function createBackoffOf(p: PresetOutput): Preset['createBackoff'] {
  return {
    initialMs: (p.create_backoff?.initial ?? 10) * 1000,
    maxMs: (p.create_backoff?.max ?? 600) * 1000,
    quotaWindowMs: (p.create_backoff?.quota_window ?? 300) * 1000,
  };
}

/** A preset file's text as YAML with positions, refused when too large, broken or not a mapping. */
function readPresetYaml(
  source: PresetSource,
  text: string,
):
  | { yaml: YamlSource; raw: Record<string, unknown>; warnings: ShepherdError[] }
  | { errors: ShepherdError[] } {
  const tooLarge = presetTooLarge(Buffer.byteLength(text), source.file);
  if (tooLarge) return { errors: [tooLarge] };
  const parsed = YamlSource.parse(text, source.file, {
    syntax: 'preset_load_1001',
    duplicate: 'preset_load_1008',
  });
  if (!parsed.source) return { errors: parsed.errors };
  const yaml = parsed.source;
  const raw = yaml.toJS();
  if (!isPlainObject(raw))
    return {
      errors: [
        new ShepherdError('preset_load_1002', 'a preset file must be a mapping of keys', {
          at: yaml.position([]),
        }),
      ],
    };
  return { yaml, raw, warnings: parsed.warnings };
}

function valueWarning(issue: OptionIssue): string {
  return `${dotted(issue.path)}: ${issue.message}`;
}

/**
 * VM metadata holds text: a meta tag that is not text (a number, a boolean, a list, a map) is its JSON
 * text there, and keeps its YAML type for the API and templates. Each such tag is reported.
 */
export function metadataText(tags: Record<string, JsonValue>): {
  text: Record<string, string>;
  converted: OptionIssue[];
} {
  const text: Record<string, string> = {};
  const converted: OptionIssue[] = [];
  for (const [key, value] of Object.entries(tags)) {
    if (typeof value === 'string') {
      text[key] = value;
      continue;
    }
    text[key] = JSON.stringify(value);
    converted.push({
      path: ['meta_tags', key],
      message: `${JSON.stringify(value)} is not text: '${text[key]}' in VM metadata (its own type in the API and templates)`,
    });
  }
  return { text, converted };
}

/**
 * `iaas:` and `healthcheck:` are deep-merged over the defaults, as in the original, unless the preset
 * names another driver (then the defaults' options belong to a different driver and are dropped).
 * Other default keys (new in vmshepherd) are deep-merged the same way.
 */
export function mergeWithDefaults(
  defaults: Record<string, unknown>,
  raw: Record<string, unknown>,
): Record<string, unknown> {
  const merged = deepMerge(defaults, raw) as Record<string, unknown>;
  for (const block of ['iaas', 'healthcheck']) {
    const own = liftDriverParams(raw[block]);
    const base = liftDriverParams(defaults[block]);
    const ownDriver = isPlainObject(own) ? own.driver : undefined;
    const baseDriver = isPlainObject(base) ? base.driver : undefined;
    merged[block] = ownDriver && baseDriver && ownDriver !== baseDriver ? own : deepMerge(base, own);
    if (merged[block] === undefined) delete merged[block];
  }
  return merged;
}

async function driverUse(
  ctx: CompileContext,
  kind: 'iaas' | 'healthcheck',
  block: Record<string, unknown>,
  coreKeys: readonly string[],
  layers: SourceLayer[],
  errors: ShepherdError[],
  warnings: ShepherdError[],
  own?: unknown,
): Promise<DriverUse | undefined> {
  const driver = String(block.driver);
  const { options } = splitBlock(block, coreKeys);
  const v = await ctx.validator.validate(kind, driver, options, layers, [kind], coreKeys, DRIVER_CODES);
  errors.push(...v.errors);
  warnings.push(...v.warnings);
  const routes = v.definition?.credentialRoutes;
  if (routes && !ctx.presetsMaySetEndpoints) {
    const redirect = credentialRedirect(routes, liftDriverParams(own), options);
    if (redirect)
      errors.push(
        new ShepherdError('preset_load_1012', redirect.message, {
          at: positionOf([kind, redirect.key], layers),
        }),
      );
  }
  return v.options ? { driver, options: v.options } : undefined;
}

/**
 * Why a preset's own driver block would send credentials it did not bring to an endpoint it set (pure),
 * or null. Whoever can write a preset (a git push) must not be able to collect the cloud's password: a
 * preset that sets an endpoint brings every secret the driver will use, so it may neither inherit one
 * from the defaults (an OpenStack application credential wins over the preset's own password) nor let the
 * driver take credentials from outside its options (`outside`: clouds.yaml, the OS_* environment).
 */
export function credentialRedirect(
  routes: NonNullable<DriverDefinition['credentialRoutes']>,
  own: unknown,
  merged: Record<string, unknown> = isPlainObject(own) ? own : {},
): { key: string; message: string } | null {
  if (!isPlainObject(own)) return null;
  const endpoints = routes.endpoints.filter((k) => own[k] !== undefined);
  const [key] = endpoints;
  if (key === undefined) return null;
  const sets = `the preset sets ${endpoints.join(', ')}`;
  if (!routes.secrets.some((k) => own[k] !== undefined))
    return {
      key,
      message: `${sets} but not its own ${routes.secrets.join(' or ')}: the main configuration's credentials would go there`,
    };
  const inherited = routes.secrets.filter((k) => merged[k] !== undefined && own[k] === undefined);
  if (inherited.length > 0)
    return {
      key,
      message: `${sets} but inherits ${inherited.join(', ')} from the main configuration, which would go there: a preset with an endpoint of its own brings all of its credentials`,
    };
  const outside = routes.outside?.(merged);
  if (outside)
    return {
      key,
      message: `${sets} but the driver would take credentials from ${outside}, which would go there: a preset with an endpoint of its own brings all of its credentials in its iaas block`,
    };
  return null;
}

async function renderUserdata(
  p: PresetOutput,
  merged: Record<string, unknown>,
  source: PresetSource,
  raw: Record<string, unknown>,
  layers: SourceLayer[],
  ctx: CompileContext,
  dependencies: Dependency[],
): Promise<string | undefined> {
  if (!p.userdata) return undefined;
  const at = positionOf(['userdata'], layers);
  const context = userdataContext(merged, layers);
  if (!p.userdata.startsWith('file://')) return renderTemplate(p.userdata, context, at);
  const root = userdataRoot(source, raw, ctx, layers);
  const file = await readUserdataFile(p.userdata, root, at);
  dependencies.push({ path: file.path, mtimeMs: file.mtimeMs });
  return renderTemplate(file.text, context, { file: file.path, line: 1, col: 1 }, { ownFile: true });
}

/**
 * What the template sees (templateContext), with the numbers that the preset file or the config's
 * defaults wrote as whole floats marked as floats; a preset's own value hides the default's.
 */
function userdataContext(merged: Record<string, unknown>, layers: SourceLayer[]): Record<string, unknown> {
  const context = templateContext(merged);
  const [own, ...below] = layers;
  for (const layer of below) {
    const prefix = layer.prefix;
    const paths = layer.source
      .wholeFloatPaths()
      .filter((path) => prefix.every((key, i) => path[i] === key))
      .map((path) => path.slice(prefix.length));
    markWholeFloats(context, paths, (path) => own?.source.has(path) ?? false);
  }
  if (own) markWholeFloats(context, own.source.wholeFloatPaths());
  return context;
}

/**
 * The directory `file://` userdata is read from: the main config's `userdata_source_root` (set by the
 * operator) or the store's directory. A preset may narrow it to a subdirectory, never widen it.
 */
function userdataRoot(
  source: PresetSource,
  raw: Record<string, unknown>,
  ctx: CompileContext,
  layers: SourceLayer[],
): string {
  const base = ctx.trustedUserdataRoot ?? source.sourceRoot;
  const own = raw.userdata_source_root;
  if (typeof own !== 'string') return base;
  const narrowed = resolve(source.sourceRoot, own);
  if (!isInside(base, narrowed)) {
    throw new ShepherdError('preset_render_1002', `userdata_source_root '${own}' is outside ${base}`, {
      at: positionOf(['userdata_source_root'], layers),
    });
  }
  return narrowed;
}

function positionOf(path: string[], layers: SourceLayer[]): SourcePosition {
  for (const { source, prefix } of layers)
    if (source.has([...prefix, ...path])) return source.position([...prefix, ...path]);
  return layers[0]?.source.position([]) ?? { file: '?', line: 1, col: 1 };
}

/** `subnets: [{net-id: X}]`, `subnets: [name]` and the original example's `subnet: [name]`, as one list. */
export function normalizeNetwork(network: PresetOutput['network']): NetworkSpec {
  const refs = [...(network?.subnets ?? []), ...[network?.subnet ?? []].flat()].map((entry) =>
    typeof entry === 'string' ? entry : 'net-id' in entry ? entry['net-id'] : entry.name,
  );
  const nics = (network?.networks ?? []).map(nicSpec);
  return {
    securityGroups: network?.security_groups ?? [],
    // A list of zones is a spread: each create gets its own (zone-spread.ts), the preset's network none.
    ...(typeof network?.availability_zone === 'string'
      ? { availabilityZone: network.availability_zone }
      : network?.availability_zone?.length === 1
        ? { availabilityZone: network.availability_zone[0] as string }
        : {}),
    subnets: [...new Set(refs)],
    // Only when given: a network spec without it hashes as it always did.
    ...(nics.length > 0 ? { nics } : {}),
  };
}

type NicInput = NonNullable<NonNullable<PresetOutput['network']>['networks']>[number];

/** `{id}`, `{name}` (either with `fixed_ip`) or `{port}` as one interface. */
function nicSpec(entry: NicInput): NicSpec {
  if ('port' in entry) return { port: entry.port };
  const network = 'id' in entry ? entry.id : entry.name;
  return entry.fixed_ip ? { network, fixedIp: entry.fixed_ip } : { network };
}

/** `volume:` as the spec carries it. */
function volumeSpec(v: NonNullable<PresetOutput['volume']>): VolumeSpec {
  return {
    size: v.size,
    ...(v.type ? { type: v.type } : {}),
    deleteOnTermination: v.delete_on_termination,
  };
}

/** Top-level keys are template variables when unknown, but one that is one typo away from a key is suspicious. */
function typoWarnings(raw: Record<string, unknown>, yaml: YamlSource): ShepherdError[] {
  const warnings: ShepherdError[] = [];
  for (const key of Object.keys(raw)) {
    if (PRESET_KEYS.includes(key) || key === 'driver_params') continue;
    const near = closestKey(key, PRESET_KEYS);
    if (near) {
      warnings.push(
        new ShepherdError('preset_load_1006', `'${key}' (did you mean '${near}'?)`, {
          at: yaml.keyPosition([key]),
        }),
      );
    }
  }
  return warnings;
}
