import { readFile, realpath, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { ErrorCode } from '../errors/codes.js';
import { ShepherdError, type SourcePosition } from '../errors/shepherd-error.js';
import { isPlainObject } from '../util/deep-merge.js';
import { type RenderLimits, renderJinja, TemplateError, type TemplateErrorKind } from './jinja/index.js';

export type { RenderLimits } from './jinja/index.js';

/** A template that hits a limit fails with the limit's own code; every other failure is 1001. */
const CODE_OF_KIND: Record<TemplateErrorKind, ErrorCode> = {
  syntax: 'preset_render_1001',
  undefined: 'preset_render_1001',
  type: 'preset_render_1001',
  security: 'preset_render_1001',
  unsupported: 'preset_render_1001',
  steps: 'preset_render_1010',
  output: 'preset_render_1011',
  range: 'preset_render_1012',
  depth: 'preset_render_1013',
};

export interface RenderOptions {
  /** Overrides of the default limits (1e6 steps, 64 KiB output, depth 100). */
  limits?: Partial<RenderLimits>;
  /** `at` is the template's own file (file:// userdata): errors then point at the template's line. */
  ownFile?: boolean;
}

/**
 * Userdata is a Jinja2 template, rendered by our own engine (src/presets/jinja, see docs/templates.md)
 * byte for byte as the original's Jinja2 rendered it, sandboxed as Jinja2's SandboxedEnvironment is: a
 * template reaches only the plain data it is given (no `_` attributes, code, files, include/import),
 * within limits of steps, output size (64 KiB by default), range size and nesting.
 */
export function renderTemplate(
  template: string,
  context: Record<string, unknown>,
  at: SourcePosition,
  options: RenderOptions = {},
): string {
  try {
    return renderJinja(template, context, options.limits);
  } catch (err) {
    if (!(err instanceof TemplateError)) throw err;
    // A file:// template has lines of its own; inline userdata keeps the YAML key's position.
    const where = options.ownFile && err.line !== undefined ? { ...at, line: err.line, col: 1 } : at;
    throw new ShepherdError(CODE_OF_KIND[err.kind], err.message, {
      at: where,
      cause: err,
      details: { kind: err.kind },
    });
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
