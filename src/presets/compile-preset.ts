import type { DriverOptionsValidator } from '../config/driver-block.js';
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
import { coerceLikePython } from '../drivers/python-values.js';
import type { OptionIssue, PresetSource, VolumeSpec } from '../drivers/types.js';
import { zodIssues } from '../drivers/zod-options.js';
import { ShepherdError } from '../errors/shepherd-error.js';
import { demandSpecOf } from './demand-spec.js';
import { driverUse } from './driver-use.js';
import { hooksOf } from './hooks-policy.js';
import { mergeWithDefaults } from './merge-with-defaults.js';
import { metadataText } from './metadata-text.js';
import { normalizeNetwork } from './normalize-network.js';
import type { DriverUse, Preset } from './preset.js';
import { quarantinePolicyOf } from './quarantine-policy.js';
import { readPresetYaml, typoWarnings } from './read-preset-yaml.js';
import { type Dependency, renderPresetUserdata } from './render-preset-userdata.js';
import { declaredSpec, specHashOf, specPartsOf } from './spec-parts.js';

export type { Dependency } from './render-preset-userdata.js';

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

export interface CompileResult {
  preset?: Preset;
  errors: ShepherdError[];
  /** The preset is managed, but something looks wrong (e.g. a misspelled top-level key). */
  warnings: ShepherdError[];
  dependencies: Dependency[];
}

const VALUE_CODES = { invalid: 'preset_load_1002', unknown: 'preset_load_1003' } as const;

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
    userdata = await renderPresetUserdata(
      p,
      { ...merged, name, meta_tags: merged.meta_tags ?? {} },
      source,
      raw,
      layers,
      ctx.trustedUserdataRoot,
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
    ...(typeof p.count === 'number'
      ? { count: p.count }
      : { count: p.count.min, demand: demandSpecOf(p.count) }),
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
    ...hooksOf(p.hooks),
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

function valueWarning(issue: OptionIssue): string {
  return `${dotted(issue.path)}: ${issue.message}`;
}

/** `volume:` as the spec carries it. */
function volumeSpec(v: NonNullable<PresetOutput['volume']>): VolumeSpec {
  return {
    size: v.size,
    ...(v.type ? { type: v.type } : {}),
    deleteOnTermination: v.delete_on_termination,
  };
}
