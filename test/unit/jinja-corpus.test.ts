import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { renderJinja } from '../../src/presets/jinja/index.js';
import { type Corpus, contextOf, ensureJinja2, type Rendered, renderWithJinja2 } from '../helpers/jinja2.js';

/**
 * The differential proof that userdata renders as the original's Jinja2 rendered it: every corpus
 * template through our engine and through Python's jinja2.sandbox.SandboxedEnvironment(), compared byte
 * for byte; where Jinja2 raises, ours must fail too (the kind, not the message, is compared).
 */
const corpus = JSON.parse(readFileSync('test/fixtures/jinja-corpus/corpus.json', 'utf8')) as Corpus;

function renderOurs(c: Corpus['templates'][number]): Rendered {
  try {
    return { name: c.name, ok: true, output: renderJinja(c.template, structuredClone(contextOf(corpus, c))) };
  } catch (err) {
    return { name: c.name, ok: false, error: (err as Error).message };
  }
}

const show = (r: Rendered) => (r.ok ? JSON.stringify(r.output) : `error: ${r.error}`);

describe('userdata templates against Python Jinja2', () => {
  let reference: Rendered[];

  beforeAll(() => {
    ensureJinja2();
    const { version, results } = renderWithJinja2(corpus);
    expect(version).toMatch(/^3\./);
    reference = results;
  }, 900_000);

  it('has a corpus of at least 150 uniquely named templates', () => {
    expect(corpus.templates.length).toBeGreaterThanOrEqual(150);
    expect(new Set(corpus.templates.map((c) => c.name)).size).toBe(corpus.templates.length);
  });

  it('renders every corpus template exactly as Jinja2 does, and fails where it fails', () => {
    const mismatches: string[] = [];
    corpus.templates.forEach((c, i) => {
      const theirs = reference[i]!;
      const ours = renderOurs(c);
      const same = theirs.ok === ours.ok && (!theirs.ok || (ours.ok && ours.output === theirs.output));
      if (!same) mismatches.push(`${c.name}\n    jinja2: ${show(theirs)}\n    ours:   ${show(ours)}`);
    });
    expect(mismatches, mismatches.join('\n')).toEqual([]);
  });

  it('keeps the corpus honest: both outcomes occur, and most templates render', () => {
    const failing = reference.filter((r) => !r.ok).length;
    expect(failing).toBeGreaterThan(10);
    expect(reference.length - failing).toBeGreaterThan(150);
  });
});
