import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';

/**
 * Relative paths in a config resolve against the config file's directory; when nothing exists there but
 * something does under the working directory, that one is used (the original resolved against the
 * working directory, and its users' configs say `path: config/presets.d`).
 */
export function resolveConfigPath(baseDir: string, path: string, cwd = process.cwd()): string {
  if (isAbsolute(path)) return path;
  const fromConfig = resolve(baseDir, path);
  if (existsSync(fromConfig)) return fromConfig;
  const fromCwd = resolve(cwd, path);
  return existsSync(fromCwd) ? fromCwd : fromConfig;
}
