import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { driverContext } from '../../src/daemon/driver-context.js';
import { directoryDriver } from '../../src/drivers/presets/directory.js';
import type { PresetStore } from '../../src/drivers/types.js';
import { dirWriter, presetStoreContract } from '../../src/testing/presets-contract.js';
import { systemClock } from '../../src/util/clock.js';
import { quietLogger } from '../helpers/catalog.js';
import { tempDir } from '../helpers/tmp.js';

const storeIn = (dir: string, path = 'presets') => {
  const parsed = directoryDriver.parseOptions({ path });
  if (!parsed.ok) throw new Error('bad options');
  return directoryDriver.create(
    parsed.value,
    driverContext(quietLogger(), systemClock, 't', dir, 'DirectoryDriver'),
  ) as PresetStore;
};

presetStoreContract('DirectoryDriver', async () => {
  const dir = tempDir();
  mkdirSync(join(dir, 'presets'));
  return { store: storeIn(dir), ...dirWriter(join(dir, 'presets')) };
});

describe('DirectoryDriver', () => {
  it('reads only *.conf files directly inside the directory', async () => {
    const dir = tempDir({
      'presets/a.conf': 'x',
      'presets/b.yaml': 'x',
      'presets/sub/c.conf': 'x',
      'presets/README': 'x',
    });
    const { sources } = await storeIn(dir).load();
    expect(sources.map((s) => s.file.split('/').pop())).toEqual(['a.conf']);
  });

  it('reads a link to a file inside the directory, and refuses one to a file outside it', async () => {
    const dir = tempDir({
      'presets/..data/web.conf': 'name: web',
      'presets/a.conf': 'x',
      'secret.txt': 'not a preset',
    });
    // A Kubernetes ConfigMap mounts its files as links into `..data/`; a link out reads any file.
    symlinkSync('..data/web.conf', join(dir, 'presets', 'web.conf'));
    symlinkSync(join(dir, 'secret.txt'), join(dir, 'presets', 'b.conf'));
    const { sources, errors } = await storeIn(dir).load();
    expect(sources.map((s) => s.file.split('/').pop())).toEqual(['a.conf', 'web.conf']);
    expect(await sources[1]?.read()).toBe('name: web');
    expect(errors).toEqual([expect.objectContaining({ code: 'preset_load_1014' })]);
    expect(String(errors[0]?.message)).toContain('b.conf');
  });

  it('fails to load a missing directory rather than listing no preset', async () => {
    // An empty list would drop every preset; a failed load keeps those the catalog has.
    await expect(storeIn(tempDir(), 'nope').load()).rejects.toMatchObject({ code: 'preset_load_2001' });
  });

  it('notices changes by watching the directory', async () => {
    const dir = tempDir({ 'presets/a.conf': 'x' });
    const store = storeIn(dir);
    let changes = 0;
    const stop = store.watch!(() => changes++);
    await dirWriter(join(dir, 'presets')).put('b.conf', 'y');
    await new Promise((r) => setTimeout(r, 300));
    stop();
    expect(changes).toBeGreaterThan(0);
  });
});
