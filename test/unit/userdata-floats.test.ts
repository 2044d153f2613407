import { describe, expect, it } from 'vitest';
import { catalogIn, SETTINGS } from '../helpers/catalog.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * YAML `2.0` is the number 2 in JavaScript, but the original loaded it with PyYAML as a float and its
 * Jinja2 printed `2.0`. The expected text below is what PyYAML + Jinja2 3.1 give for the same file.
 */
describe('whole floats written in YAML', () => {
  it('print as Python floats in userdata, from the preset and from the defaults', async () => {
    const preset = [
      'name: a',
      'count: 1',
      'version: 2.0',
      'ratio: 0.5',
      'neg: -0.0',
      'numbers: [1, 2.0, 3.50]',
      'nested: {x: 10.0, y: 10}',
      'quoted: "1.0"',
      'userdata: "{{ version }} {{ ratio }} {{ neg }} {{ numbers }} {{ nested }} {{ quoted }} {{ version * 2 }} {{ nested.x|int }} {{ count }}"',
    ].join('\n');
    const dir = tempDir({ 'presets/a.conf': `${preset}\n` });
    const catalog = await catalogIn(dir, SETTINGS);
    const { problems } = await catalog.refresh();
    expect(problems).toEqual([]);
    expect(catalog.get('a')!.userdata).toBe("2.0 0.5 -0.0 [1, 2.0, 3.5] {'x': 10.0, 'y': 10} 1.0 4.0 10 1");
    expect(catalog.get('a')!.count).toBe(1);
  });

  it('lets a preset value hide a float of the defaults', async () => {
    const settings = SETTINGS.replace('defaults:\n', 'defaults:\n  weight: 3.0\n  size: 4.0\n');
    expect(settings).not.toBe(SETTINGS);
    const dir = tempDir({
      'presets/a.conf': 'name: a\ncount: 1\nsize: 4\nuserdata: "{{ weight }} {{ size }}"\n',
    });
    const catalog = await catalogIn(dir, settings);
    await catalog.refresh();
    expect(catalog.get('a')?.userdata).toBe('3.0 4');
  });
});
