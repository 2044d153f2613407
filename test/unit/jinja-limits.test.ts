import { describe, expect, it } from 'vitest';
import { MAX_RANGE, renderJinja } from '../../src/presets/jinja/index.js';
import { renderTemplate } from '../../src/presets/render-userdata.js';

const at = { file: '/presets/a.conf', line: 3, col: 11 };

/** The code a template's failure is reported with, or 'ok'. */
function codeOf(template: string, limits = {}): string {
  try {
    renderTemplate(template, { name: 'web', items: [1, 2, 3] }, at, { limits });
    return 'ok';
  } catch (err) {
    return (err as { code: string }).code;
  }
}

describe('userdata template limits', () => {
  it('stops a loop of a hundred million items at the range limit, as Jinja2 sandbox does', () => {
    expect(codeOf('{% for i in range(100000000) %}x{% endfor %}')).toBe('preset_render_1012');
    expect(codeOf(`{% for i in range(${MAX_RANGE}) %}{% endfor %}`)).toBe('ok');
  });

  it('stops nested loops at the step limit', () => {
    expect(codeOf('{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}')).toBe(
      'preset_render_1010',
    );
    expect(codeOf('{% for i in range(50) %}{{ i }}{% endfor %}', { maxSteps: 100 })).toBe(
      'preset_render_1010',
    );
  });

  it('stops output above 64 KiB, and strings that grow past it on the way', () => {
    expect(codeOf('{% for i in range(70000) %}x{% endfor %}')).toBe('preset_render_1011');
    expect(codeOf("{{ 'x' * 100000000 }}")).toBe('preset_render_1011');
    expect(
      codeOf(
        "{% set ns = namespace(s='xxxxxxxx') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
      ),
    ).toBe('preset_render_1011');
    expect(codeOf("{{ '%99999999s' % 'x' }}")).toBe('preset_render_1011');
    expect(codeOf("{{ 'x'|center(99999999) }}")).toBe('preset_render_1011');
    expect(codeOf('{% for i in range(70000) %}x{% endfor %}', { maxOutputBytes: 100_000 })).toBe('ok');
    expect(codeOf('{{ name * 10 }}', { maxOutputBytes: 20 })).toBe('preset_render_1011');
  });

  it('counts the output limit in UTF-8 bytes', () => {
    expect(codeOf("{{ 'ż' * 40000 }}")).toBe('preset_render_1011');
    expect(codeOf("{{ 'ż' * 30000 }}")).toBe('ok');
  });

  it('stops lists that grow past MAX_RANGE items', () => {
    expect(codeOf('{{ [0] * 200000 }}')).toBe('preset_render_1012');
    expect(
      codeOf(
        '{% set ns = namespace(l=[1]) %}{% for i in range(30) %}{% set ns.l = ns.l + ns.l %}{% endfor %}',
      ),
    ).toBe('preset_render_1012');
  });

  it('stops runaway recursion at the depth limit', () => {
    expect(codeOf('{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}')).toBe('preset_render_1013');
    expect(codeOf(`{{ ${'('.repeat(500)}1${')'.repeat(500)} }}`)).toBe('preset_render_1013');
    expect(codeOf('{% macro f(n) %}{% if n %}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(50) }}')).toBe('ok');
  });

  it('charges filters and methods by the size of their input, so no loop of them runs for long', () => {
    const s = 'word http://x.org/a '.repeat(3000);
    for (const t of [
      '{% for i in range(100000) %}{% set x = s|urlize %}{% endfor %}',
      '{% for i in range(100000) %}{% set x = s|wordwrap(10) %}{% endfor %}',
      '{% for i in range(100000) %}{% set x = s.split() %}{% endfor %}',
      '{% for i in range(100000) %}{% set x = big|tojson %}{% endfor %}',
      '{% for i in range(100000) %}{% set x = big[:] %}{% endfor %}',
    ]) {
      expect(() => renderJinja(t, { s, big: Array.from({ length: 100_000 }, (_, i) => i) })).toThrow(
        expect.objectContaining({ kind: 'steps' }),
      );
    }
  });

  it('fails printing a huge structure before building it', () => {
    expect(codeOf("{% set l = ['x' * 60000] * 100000 %}{{ l }}")).toBe('preset_render_1011');
    expect(
      codeOf(
        '{% set ns = namespace(l=[]) %}{% for i in range(100) %}{% set ns.l = [ns.l, ns.l] %}{% endfor %}{{ ns.l }}',
      ),
    ).toBe('preset_render_1011');
    expect(
      codeOf(
        '{% set ns = namespace(l=[]) %}{% for i in range(50000) %}{% set ns.l = [ns.l] %}{% endfor %}{{ ns.l }}',
      ),
    ).toBe('preset_render_1013');
  });

  it('refuses include, import and extends with a clear message', () => {
    for (const t of [
      "{% include 'x' %}",
      "{% import 'x' as y %}",
      "{% from 'x' import y %}",
      "{% extends 'x' %}",
    ]) {
      expect(() => renderTemplate(t, {}, at)).toThrow(/cannot load other templates/);
      expect(codeOf(t)).toBe('preset_render_1001');
    }
  });

  it('points a file:// template error at its own line, and inline userdata at its key', () => {
    const file = { file: '/presets/ud.txt', line: 1, col: 1 };
    expect(() => renderTemplate('a\nb\n{{ x.y }}', {}, file, { ownFile: true })).toThrow(
      expect.objectContaining({ at: { file: '/presets/ud.txt', line: 3, col: 1 } }),
    );
    expect(() => renderTemplate('a\nb\n{{ x.y }}', {}, at)).toThrow(expect.objectContaining({ at }));
  });
});
