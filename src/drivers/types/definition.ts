/** A driver as registered (`DriverDefinition`) and what the daemon gives it (`DriverContext`). */
import type { Logger } from 'pino';
import type { Clock } from '../../util/clock.js';
import type { HealthCheck } from './healthcheck.js';
import type { IaasDriver } from './iaas.js';
import type { PresetStore } from './presets.js';
import type { RuntimeStore } from './runtime.js';

export type DriverKind = 'iaas' | 'presets' | 'runtime' | 'healthcheck';
export const DRIVER_KINDS: readonly DriverKind[] = ['iaas', 'presets', 'runtime', 'healthcheck'];

/** What every driver gets from the daemon. */
export interface DriverContext {
  logger: Logger;
  clock: Clock;
  /** This vmshepherd instance, e.g. `host-1234`; owners of leases. */
  instanceId: string;
  /** Directory of the main config file. */
  baseDir: string;
  /**
   * Resolves a path from driver options: relative to the config file's directory, or, when nothing
   * exists there, to the working directory (where the original resolved it).
   */
  resolvePath(path: string): string;
}

/** An option problem found by a driver; `path` is relative to the driver's block. */
export interface OptionIssue {
  path: (string | number)[];
  message: string;
  /** Set when the issue is an unknown key: the key itself, so the loader can point at it and suggest. */
  unknownKey?: string;
  /** The keys allowed where the unknown key was found (for the "did you mean" hint). */
  knownKeys?: readonly string[];
}

/**
 * `warnings`: values the parser converted the way the original used them (e.g. a number given as a
 * password), each reported with its position and never silent.
 */
export type OptionsResult<O> =
  | { ok: true; value: O; warnings?: OptionIssue[] }
  | { ok: false; issues: OptionIssue[]; warnings?: OptionIssue[] };

/** A driver as registered: a name, a kind, an option parser and a factory. */
export interface DriverDefinition<K extends DriverKind = DriverKind, O = unknown, I = DriverInstance<K>> {
  kind: K;
  name: string;
  description: string;
  /** Option keys this driver accepts (for "did you mean" hints and the JSON Schema). */
  optionKeys: readonly string[];
  parseOptions(raw: Record<string, unknown>): OptionsResult<O>;
  create(options: O, ctx: DriverContext): I | Promise<I>;
  /**
   * IaaS only: a key that is equal for two option sets that talk to the same cloud account. Presets of one
   * account share one driver instance, one call limiter and one listing per cycle. Defaults to all options.
   */
  accountKey?(options: O): string;
  /**
   * Option keys that say where the driver sends its credentials (`endpoints`: a URL, a clouds.yaml entry,
   * the TLS trust) and the credentials themselves (`secrets`). A preset that sets an endpoint must bring
   * its own secret, inherits none, and takes none from outside the options (`outside`: says from where
   * the options given would take credentials, e.g. a clouds.yaml entry, or nothing): credentials of the
   * main configuration only go where the main configuration points.
   */
  credentialRoutes?: {
    endpoints: readonly string[];
    secrets: readonly string[];
    outside?: (options: Record<string, unknown>) => string | undefined;
  };
  /** JSON Schema of the options, for editor completion of config and preset files. */
  optionsJsonSchema?: Record<string, unknown>;
}

export type DriverInstance<K extends DriverKind> = K extends 'iaas'
  ? IaasDriver
  : K extends 'presets'
    ? PresetStore
    : K extends 'runtime'
      ? RuntimeStore
      : HealthCheck;

/** Used by drivers to build their definitions with type inference. */
export function defineDriver<K extends DriverKind, O>(
  definition: DriverDefinition<K, O, DriverInstance<K>>,
): DriverDefinition<K, O, DriverInstance<K>> {
  return definition;
}
