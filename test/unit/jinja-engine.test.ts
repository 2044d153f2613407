import { describe, expect, it } from 'vitest';
import { renderJinja } from '../../src/presets/jinja/index.js';

/** What the differential corpus cannot hold: random output, and properties of the host language. */
describe('the userdata template engine', () => {
  it('picks a random item, and nothing from an empty list', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) seen.add(renderJinja('{{ items|random }}', { items: ['a', 'b', 'c'] }));
    expect([...seen].sort()).toEqual(['a', 'b', 'c']);
    expect(renderJinja('[{{ []|random }}]', {})).toBe('[]');
  });

  it('gives lipsum text', () => {
    expect(renderJinja('{{ lipsum() }}', {})).toMatch(/^lorem ipsum/);
  });

  it('never reaches JavaScript prototypes or functions through a context value', () => {
    const ctx = { d: { a: 1 }, l: [1], s: 'x', n: 1 };
    for (const t of [
      '{{ d.constructor }}{{ d.toString }}{{ d.hasOwnProperty }}{{ d.valueOf }}',
      '{{ l.constructor }}{{ l.map }}{{ l.push }}{{ l.length }}',
      '{{ s.constructor }}{{ s.charAt }}{{ s.length }}{{ n.toFixed }}',
      "{{ d['constructor'] }}{{ l['map'] }}{{ s['length'] }}",
    ]) {
      expect(renderJinja(t, ctx)).toBe('');
    }
    expect(() => renderJinja("{{ d.constructor('return process')() }}", ctx)).toThrow();
  });

  it('does not change the context it is given, except through the methods Python allows', () => {
    const ctx = { l: [1], d: { a: 1 } };
    renderJinja("{% set l = [9] %}{% set x = d.get('a') %}", ctx);
    expect(ctx).toEqual({ l: [1], d: { a: 1 } });
    renderJinja("{{ l.append(2) }}{{ d.update({'__proto__': 1}) }}", ctx);
    expect(ctx.l).toEqual([1, 2]);
    expect(Object.getPrototypeOf(ctx.d)).toBe(Object.prototype);
    expect(Object.hasOwn(ctx.d, '__proto__')).toBe(true);
  });
});
