import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ShepherdError } from '../errors/shepherd-error.js';
import { DRIVER_KINDS, type DriverDefinition, type DriverKind } from './types.js';

/** One driver declared by an installed package in its package.json under `vmshepherd.drivers`. */
export interface PluginDeclaration {
  kind: DriverKind;
  name: string;
  /** Module path relative to the package directory. */
  entry: string;
  /** Export holding the definition; default: the driver's name, then `default`. */
  export?: string;
  packageName: string;
  packageVersion: string;
  packageDir: string;
}

/**
 * Finds plugin packages: every package directly in a `node_modules` directory on the way up from each
 * root (the Node resolution path), including scoped ones. This is the Node equivalent of the original's
 * Python entry points (`vmshepherd.driver.iaas` and friends).
 */
export async function discoverPlugins(
  roots: readonly string[],
): Promise<{ plugins: PluginDeclaration[]; errors: ShepherdError[] }> {
  const seenDirs = new Set<string>();
  const plugins: PluginDeclaration[] = [];
  const errors: ShepherdError[] = [];
  for (const nodeModules of nodeModulesDirs(roots)) {
    for (const packageDir of await packageDirs(nodeModules)) {
      if (seenDirs.has(packageDir)) continue;
      seenDirs.add(packageDir);
      const found = await readDeclarations(packageDir);
      plugins.push(...found.plugins);
      errors.push(...found.errors);
    }
  }
  return { plugins, errors };
}

function nodeModulesDirs(roots: readonly string[]): string[] {
  const dirs: string[] = [];
  for (const root of roots) {
    let dir = resolve(root);
    for (;;) {
      const candidate = join(dir, 'node_modules');
      if (!dirs.includes(candidate)) dirs.push(candidate);
      const parent = dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  return dirs;
}

async function packageDirs(nodeModules: string): Promise<string[]> {
  const entries = await readdir(nodeModules, { withFileTypes: true }).catch(() => []);
  const dirs: string[] = [];
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    if (!entry.isDirectory() && !entry.isSymbolicLink()) continue;
    const full = join(nodeModules, entry.name);
    if (entry.name.startsWith('@')) {
      const scoped = await readdir(full).catch(() => []);
      dirs.push(...scoped.map((s) => join(full, s)));
    } else {
      dirs.push(full);
    }
  }
  return dirs;
}

async function readDeclarations(
  packageDir: string,
): Promise<{ plugins: PluginDeclaration[]; errors: ShepherdError[] }> {
  let pkg: { name?: string; version?: string; vmshepherd?: { drivers?: unknown } };
  try {
    pkg = JSON.parse(await readFile(join(packageDir, 'package.json'), 'utf8'));
  } catch {
    return { plugins: [], errors: [] };
  }
  const drivers = pkg.vmshepherd?.drivers;
  if (drivers === undefined) return { plugins: [], errors: [] };
  const packageName = pkg.name ?? packageDir;
  if (!Array.isArray(drivers)) {
    return {
      plugins: [],
      errors: [new ShepherdError('driver_resolve_1002', `${packageName}: vmshepherd.drivers must be a list`)],
    };
  }
  const plugins: PluginDeclaration[] = [];
  const errors: ShepherdError[] = [];
  for (const d of drivers as Record<string, unknown>[]) {
    const kind = d?.kind as DriverKind;
    if (!DRIVER_KINDS.includes(kind) || typeof d.name !== 'string' || typeof d.entry !== 'string') {
      errors.push(
        new ShepherdError(
          'driver_resolve_1002',
          `${packageName}: each driver needs kind (${DRIVER_KINDS.join('|')}), name and entry`,
        ),
      );
      continue;
    }
    plugins.push({
      kind,
      name: d.name,
      entry: d.entry,
      ...(typeof d.export === 'string' ? { export: d.export } : {}),
      packageName,
      packageVersion: pkg.version ?? '0.0.0',
      packageDir,
    });
  }
  return { plugins, errors };
}

/** Imports a declared driver and checks that it is a driver definition of the declared kind and name. */
export async function loadPlugin(declaration: PluginDeclaration): Promise<DriverDefinition> {
  const where = `${declaration.packageName}@${declaration.packageVersion}`;
  let mod: Record<string, unknown>;
  try {
    mod = await import(pathToFileURL(join(declaration.packageDir, declaration.entry)).href);
  } catch (err) {
    throw new ShepherdError('driver_resolve_1002', `${where}: cannot import ${declaration.entry}`, {
      cause: err,
    });
  }
  const candidates = [declaration.export, declaration.name, 'default'].filter((k): k is string => Boolean(k));
  for (const key of candidates) {
    const value = mod[key];
    const definitions = Array.isArray(value) ? value : [value];
    const match = definitions.find((d) => isDefinition(d) && d.name === declaration.name);
    if (match) {
      if (match.kind !== declaration.kind) {
        throw new ShepherdError(
          'driver_resolve_1002',
          `${where}: ${declaration.name} is declared ${declaration.kind} but is ${match.kind}`,
        );
      }
      return { optionKeys: [], ...match } as DriverDefinition;
    }
  }
  throw new ShepherdError(
    'driver_resolve_1002',
    `${where}: ${declaration.entry} exports no driver definition named ${declaration.name} (an object with kind, name, parseOptions and create)`,
  );
}

function isDefinition(value: unknown): value is DriverDefinition {
  const v = value as Partial<DriverDefinition> | undefined;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.name === 'string' &&
    typeof v.kind === 'string' &&
    typeof v.create === 'function' &&
    typeof v.parseOptions === 'function'
  );
}

/** The directory of the vmshepherd package itself (plugins installed next to it resolve too). */
export function ownPackageDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
}
