import { ShepherdError } from '../errors/shepherd-error.js';
import { didYouMean } from '../util/suggest.js';
import { BUILTIN_DRIVERS } from './builtins.js';
import { discoverPlugins, loadPlugin, type PluginDeclaration } from './plugins.js';
import type { DriverDefinition, DriverInstance, DriverKind } from './types.js';

export interface ResolvedDriver {
  definition: DriverDefinition;
  /** `built-in`, or `npm:<package>@<version>`. */
  origin: string;
  /** Where a plugin was found. */
  location?: string;
}

/** A driver that is declared but cannot be used, as `vmshepherd drivers` reports it. */
export interface BrokenDriver {
  kind: DriverKind | 'unknown';
  name: string;
  origin: string;
  error: ShepherdError;
}

/**
 * Resolves driver names: built-ins first (registered statically), then packages installed in a
 * node_modules on the resolution path of the given roots. Plugins are discovered once, imported on use.
 */
export class DriverRegistry {
  private declarations: Promise<{ plugins: PluginDeclaration[]; errors: ShepherdError[] }> | undefined;
  private readonly loaded = new Map<string, Promise<DriverDefinition>>();

  constructor(
    private readonly roots: readonly string[],
    private readonly builtins: readonly DriverDefinition[] = BUILTIN_DRIVERS,
  ) {}

  /** Built-in drivers of `kind`, other than `except`, that read the option `key` (named in warnings). */
  builtinsReading(kind: DriverKind, key: string, except: string): string[] {
    return this.builtins
      .filter((d) => d.kind === kind && d.name !== except && d.optionKeys.includes(key))
      .map((d) => d.name);
  }

  async resolve<K extends DriverKind>(
    kind: K,
    name: string,
  ): Promise<DriverDefinition<K, unknown, DriverInstance<K>>> {
    return (await this.resolveWithOrigin(kind, name)).definition as unknown as DriverDefinition<
      K,
      unknown,
      DriverInstance<K>
    >;
  }

  async resolveWithOrigin(kind: DriverKind, name: string): Promise<ResolvedDriver> {
    const builtin = this.builtins.find((d) => d.name === name);
    if (builtin) {
      if (builtin.kind !== kind) throw wrongKind(name, builtin.kind, kind);
      return { definition: builtin, origin: 'built-in' };
    }
    const { plugins } = await this.discover();
    const ofName = plugins.filter((p) => p.name === name);
    const declaration = ofName.find((p) => p.kind === kind);
    if (!declaration) {
      if (ofName[0]) throw wrongKind(name, ofName[0].kind, kind);
      const known = [
        ...this.builtins.filter((d) => d.kind === kind).map((d) => d.name),
        ...plugins.filter((p) => p.kind === kind).map((p) => p.name),
      ];
      throw new ShepherdError(
        'driver_resolve_1001',
        `${kind} driver '${name}'${didYouMean(name, known)}; known: ${known.join(', ')}`,
        {
          details: { kind, name },
        },
      );
    }
    return {
      definition: await this.load(declaration),
      origin: originOf(declaration),
      location: declaration.packageDir,
    };
  }

  /** Every resolvable driver, plus the declared ones that fail to load. */
  async list(): Promise<{ drivers: ResolvedDriver[]; broken: BrokenDriver[] }> {
    const drivers: ResolvedDriver[] = this.builtins.map((definition) => ({ definition, origin: 'built-in' }));
    const broken: BrokenDriver[] = [];
    const { plugins, errors } = await this.discover();
    for (const error of errors) broken.push({ kind: 'unknown', name: '?', origin: 'npm', error });
    for (const p of plugins) {
      try {
        drivers.push({ definition: await this.load(p), origin: originOf(p), location: p.packageDir });
      } catch (err) {
        broken.push({ kind: p.kind, name: p.name, origin: originOf(p), error: err as ShepherdError });
      }
    }
    return { drivers, broken };
  }

  private discover() {
    this.declarations ??= discoverPlugins(this.roots);
    return this.declarations;
  }

  private load(declaration: PluginDeclaration): Promise<DriverDefinition> {
    const key = `${declaration.packageDir}#${declaration.kind}:${declaration.name}`;
    let loading = this.loaded.get(key);
    if (!loading) {
      loading = loadPlugin(declaration);
      this.loaded.set(key, loading);
    }
    return loading;
  }
}

function originOf(p: PluginDeclaration): string {
  return `npm:${p.packageName}@${p.packageVersion}`;
}

function wrongKind(name: string, actual: string, expected: string): ShepherdError {
  return new ShepherdError('driver_resolve_1003', `'${name}' is a ${actual} driver, not ${expected}`, {
    details: { name, actual, expected },
  });
}
