import { type FSWatcher, watch } from 'node:fs';
import { lstat, readdir, readFile, realpath, stat } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';
import { z } from 'zod';
import { ShepherdError } from '../../errors/shepherd-error.js';
import { defineDriver, type PresetSource, type PresetSourceSet, type PresetStore } from '../types.js';
import { zodOptions } from '../zod-options.js';

const options = z.strictObject({
  path: z.string().min(1).describe('directory holding one YAML preset per file'),
  extensions: z
    .array(z.string().startsWith('.'))
    .default(['.conf'])
    .describe('file name endings read (the original: .conf)'),
});

/**
 * Presets from the files directly inside one directory, as the original read them. A file's revision is
 * its mtime and size, so an unchanged file is never read or parsed again; a change is noticed by
 * watching the directory and by the periodic refresh.
 */
export const directoryDriver = defineDriver({
  kind: 'presets',
  name: 'DirectoryDriver',
  description: 'Presets from *.conf YAML files in a directory',
  ...zodOptions(options),
  create: (o, ctx): PresetStore => {
    const dir = ctx.resolvePath(o.path);
    const shown = (file: string) => relative(process.cwd(), file) || file;
    return {
      async load(): Promise<PresetSourceSet> {
        let names: string[];
        try {
          names = (await readdir(dir)).filter((n) => o.extensions.includes(extname(n))).sort();
        } catch (err) {
          // Thrown, not an empty list: a directory moved away must not read as "no presets" (the catalog
          // then keeps what it last read, as it does for a broken file).
          throw new ShepherdError('preset_load_2001', `${shown(dir)}: ${(err as Error).message}`, {
            cause: err,
          });
        }
        const sources: PresetSource[] = [];
        const errors: Error[] = [];
        const realDir = await realpath(dir).catch(() => dir);
        await Promise.all(
          names.map(async (name) => {
            const file = join(dir, name);
            try {
              if ((await lstat(file)).isSymbolicLink() && !isInside(await realpath(file), realDir)) {
                // Whoever writes the directory must not make the daemon read (and report on) any file it
                // can read; links within it (a Kubernetes ConfigMap's `..data/`) are fine.
                errors.push(
                  new ShepherdError('preset_load_1014', `${shown(file)}: links outside ${shown(dir)}`),
                );
                return;
              }
              const s = await stat(file);
              if (!s.isFile()) return;
              sources.push({
                id: file,
                file: shown(file),
                revision: `${s.mtimeMs.toFixed(3)}-${s.size}`,
                sourceRoot: dir,
                read: reader(file),
              });
            } catch (err) {
              errors.push(
                new ShepherdError('preset_load_2001', `${shown(file)}: ${(err as Error).message}`, {
                  cause: err,
                }),
              );
            }
          }),
        );
        sources.sort((a, b) => a.id.localeCompare(b.id));
        return { sources, errors };
      },
      watch(onChange) {
        let watcher: FSWatcher | undefined;
        try {
          watcher = watch(dir, { persistent: false }, () => onChange());
          watcher.on('error', () => watcher?.close());
        } catch {
          // The periodic refresh still notices changes.
        }
        return () => watcher?.close();
      },
    };
  },
});

const isInside = (path: string, dir: string) => path.startsWith(dir.endsWith(sep) ? dir : dir + sep);

/**
 * Reads one file. A closure of its own: a source's `read` must hold the file name only, not the scope of
 * the load that listed it (every source of that load, with its stat), which a catalog keeps for as long
 * as the file is unchanged.
 */
function reader(file: string): () => Promise<string> {
  return () => readFile(file, 'utf8');
}
