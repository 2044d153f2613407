import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { aptInstall } from './apt.js';

export interface CorpusCase {
  name: string;
  template: string;
  /** A context's name in `contexts`, or the context itself. */
  context: string | Record<string, unknown>;
}

export interface Corpus {
  contexts: Record<string, Record<string, unknown>>;
  templates: CorpusCase[];
}

export type Rendered =
  | { name: string; ok: true; output: string }
  | { name: string; ok: false; error: string };

const SCRIPT = join(import.meta.dirname, 'jinja2-render.py');

const hasJinja2 = () =>
  spawnSync('python3', ['-c', 'import jinja2.sandbox'], { stdio: 'ignore' }).status === 0;

/**
 * Python's Jinja2 (Debian's python3-jinja2) is the reference the userdata renderer is compared with:
 * installed like the other test services when missing, and a failure when it cannot be.
 */
export function ensureJinja2(): void {
  if (hasJinja2()) return;
  aptInstall(['python3', 'python3-jinja2'], 'the Jinja2 differential test needs Python Jinja2');
  if (!hasJinja2()) throw new Error('python3-jinja2 was installed but `import jinja2` still fails');
}

/** Renders the whole corpus in one python3 process with SandboxedEnvironment() defaults. */
export function renderWithJinja2(corpus: Corpus): { version: string; results: Rendered[] } {
  const out = execFileSync('python3', [SCRIPT], {
    input: JSON.stringify(corpus),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const parsed = JSON.parse(out) as { jinja2: string; results: Rendered[] };
  return { version: parsed.jinja2, results: parsed.results };
}

export function contextOf(corpus: Corpus, c: CorpusCase): Record<string, unknown> {
  return typeof c.context === 'string' ? corpus.contexts[c.context]! : c.context;
}
