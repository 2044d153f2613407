import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { MAX_PRESET_BYTES } from '../preset-too-large.js';
import type { GitClient } from './git-client.js';
import type { PresetFile } from './judge-commit.js';

/**
 * The files of one commit (its `path` subdirectory) as plain files in a directory of their own that is
 * never changed after it is written: what a preset was compiled from (and its file:// userdata) stays put
 * while a newer commit is written next to it. Layout: `<clone_dir>/<key>.trees/<commit>[-<path hash>]`.
 */
export class Snapshots {
  constructor(private readonly root: string) {}

  dirOf(commit: string, path: string): string {
    const suffix = path === '' ? '' : `-${createHash('sha1').update(path).digest('hex').slice(0, 8)}`;
    return join(this.root, `${commit}${suffix}`);
  }

  /** The snapshot of `commit:path`, written unless it already exists. */
  async write(client: GitClient, commit: string, path: string): Promise<string> {
    const dir = this.dirOf(commit, path);
    if (await exists(dir)) return dir;
    const tmp = `${dir}.tmp-${randomBytes(4).toString('hex')}`;
    try {
      await client.writeTree(commit, path, tmp);
      await rename(tmp, dir);
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      if (await exists(dir)) return dir;
      throw err;
    }
    return dir;
  }

  /** Removes every snapshot (and leftover temporary one) but `keep`. */
  async prune(keep: string[]): Promise<void> {
    const names = await readdir(this.root).catch(() => [] as string[]);
    const kept = new Set(keep.map((d) => d.slice(this.root.length + 1)));
    await Promise.all(
      names.filter((n) => !kept.has(n)).map((n) => rm(join(this.root, n), { recursive: true, force: true })),
    );
  }
}

/**
 * The preset files directly inside a snapshot, with their text (sorted by name); a file over the preset
 * size limit is listed with its size and never read.
 */
export async function presetFiles(dir: string, prefix: string, extensions: string[]): Promise<PresetFile[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries
    .filter((e) => e.isFile() && extensions.includes(extname(e.name)))
    .map((e) => e.name)
    .sort();
  return Promise.all(
    names.map(async (name) => {
      const file = join(dir, name);
      const { size } = await stat(file);
      const path = prefix === '' ? name : `${prefix}/${name}`;
      if (size > MAX_PRESET_BYTES) return { path, name, size };
      return { path, name, size, text: await readFile(file, 'utf8') };
    }),
  );
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
