import { readFile, realpath, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { Template } from '@huggingface/jinja';
import { ShepherdError, type SourcePosition } from '../errors/shepherd-error.js';
import { isPlainObject } from '../util/deep-merge.js';

/**
 * Userdata is a Jinja template. It is rendered with @huggingface/jinja, an interpreter with its own value
 * types: a template reaches only the data it is given (no JavaScript objects, prototypes, functions, or
 * files; no include/import). nunjucks was not used because its templates can reach `process` through
 * `constructor` chains.
 */
export function renderTemplate(
  template: string,
  context: Record<string, unknown>,
  at: SourcePosition,
): string {
  try {
    return new Template(template).render(context);
  } catch (err) {
    throw new ShepherdError('preset_render_1001', (err as Error).message, { at, cause: err });
  }
}

/**
 * What a template sees: the merged preset as plain data, except driver options. `iaas` and
 * `healthcheck` keep only their `driver` names, so credentials never reach a template.
 */
export function templateContext(merged: Record<string, unknown>): Record<string, unknown> {
  const context: Record<string, unknown> = structuredClone(merged);
  for (const block of ['iaas', 'healthcheck']) {
    const value = context[block];
    context[block] = isPlainObject(value) && typeof value.driver === 'string' ? { driver: value.driver } : {};
  }
  return context;
}

/** A `file://` userdata path resolved inside `root`; symlinks that lead outside are refused too. */
export async function readUserdataFile(
  url: string,
  root: string,
  at: SourcePosition,
): Promise<{ text: string; path: string; mtimeMs: number }> {
  const rel = url.slice('file://'.length);
  const candidate = resolve(root, rel);
  if (isAbsolute(rel) || !isInside(root, candidate)) {
    throw new ShepherdError('preset_render_1002', `${url} is outside ${root}`, {
      at,
      details: { userdata: url },
    });
  }
  let real: string;
  let realRoot: string;
  try {
    [real, realRoot] = await Promise.all([realpath(candidate), realpath(root)]);
  } catch (err) {
    throw new ShepherdError('preset_render_2001', `${url}: ${(err as Error).message}`, { at, cause: err });
  }
  if (!isInside(realRoot, real)) {
    throw new ShepherdError('preset_render_1002', `${url} leads outside ${root} through a symbolic link`, {
      at,
    });
  }
  try {
    const [text, s] = await Promise.all([readFile(real, 'utf8'), stat(real)]);
    return { text, path: real, mtimeMs: s.mtimeMs };
  } catch (err) {
    throw new ShepherdError('preset_render_2001', `${url}: ${(err as Error).message}`, { at, cause: err });
  }
}

export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}
