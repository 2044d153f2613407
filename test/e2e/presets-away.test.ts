import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PRESETS, settings } from '../helpers/api.js';
import { daemonIn } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';

const files = () =>
  tempDir({
    'settings.yaml': settings(''),
    'presets/web.conf': PRESETS['web.conf']!,
    'presets/db.conf': PRESETS['db.conf']!,
  });

describe('a preset store that cannot be read (issue 22 point 9)', () => {
  it('keeps the presets last read when the directory is moved away, and says so', async () => {
    const dir = files();
    const { daemon, logs } = await daemonIn(dir);
    try {
      await daemon.refreshPresets();
      expect(daemon.presets().map((p) => p.name)).toEqual(['db', 'web']);
      renameSync(join(dir, 'presets'), join(dir, 'presets.away'));
      const report = await daemon.refreshPresets();
      expect(report.removed).toEqual([]);
      expect(daemon.presets().map((p) => p.name)).toEqual(['db', 'web']);
      expect(daemon.catalog.problems().map((p) => p.code)).toEqual(
        expect.arrayContaining(['preset_load_2001', 'preset_load_1010']),
      );
      expect(logs.some((l) => l.code === 'preset_load_1010')).toBe(true);
      renameSync(join(dir, 'presets.away'), join(dir, 'presets'));
      await daemon.refreshPresets();
      expect(daemon.catalog.problems().map((p) => p.code)).not.toContain('preset_load_1010');
      expect(daemon.presets().map((p) => p.name)).toEqual(['db', 'web']);
    } finally {
      await daemon.stop();
    }
  });

  it('refuses a reload that would leave no preset managed', async () => {
    const dir = files();
    const { daemon, logs } = await daemonIn(dir);
    try {
      await daemon.refreshPresets();
      writeFileSync(
        join(dir, 'settings.yaml'),
        settings('').replace('path: presets', 'path: no-such-presets'),
      );
      expect(await daemon.reload()).toBe(false);
      expect(daemon.presets().map((p) => p.name)).toEqual(['db', 'web']);
      expect(logs.find((l) => l.code === 'preset_load_1011')).toMatchObject({ level: 50 });
      // The kept configuration still works: its store is read as before.
      writeFileSync(join(dir, 'presets/extra.conf'), 'name: extra\ncount: 0\nimage: img-1\n');
      await daemon.refreshPresets();
      expect(daemon.presets().map((p) => p.name)).toEqual(['db', 'extra', 'web']);
    } finally {
      await daemon.stop();
    }
  });
});
