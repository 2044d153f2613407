import { open, realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { ErrorCode } from '../errors/codes.js';
import { ShepherdError, type SourcePosition } from '../errors/shepherd-error.js';
import { isPlainObject } from '../util/deep-merge.js';
import {
  PyFloat,
  type RenderLimits,
  renderJinja,
  TemplateError,
  type TemplateErrorKind,
} from './jinja/index.js';

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

/**
 * Marks the context's numbers that their YAML wrote as whole floats (`version: 2.0`), so a template prints
 * them as the original's Python did (`2.0`, not `2`). Each path is read relative to its layer's prefix;
 * `overridden` says whether a later layer (the preset over the defaults) set that path itself.
 */
export function markWholeFloats(
  context: Record<string, unknown>,
  paths: readonly (readonly (string | number)[])[],
  overridden: (path: readonly (string | number)[]) => boolean = () => false,
): void {
  for (const path of paths) {
    if (path.length === 0 || overridden(path)) continue;
    let parent: unknown = context;
    for (const key of path.slice(0, -1)) {
      parent = isContainer(parent) ? (parent as Record<string | number, unknown>)[key] : undefined;
    }
    const last = path[path.length - 1]!;
    if (!isContainer(parent) || !Object.hasOwn(parent, last)) continue;
    const holder = parent as Record<string | number, unknown>;
    if (typeof holder[last] === 'number') holder[last] = new PyFloat(holder[last] as number);
  }
}

const isContainer = (v: unknown): v is object => Array.isArray(v) || isPlainObject(v);

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
    const { text, mtimeMs } = await readBounded(real, MAX_USERDATA_FILE_BYTES);
    return { text, path: real, mtimeMs };
  } catch (err) {
    if (err instanceof FileTooLarge)
      throw new ShepherdError('preset_render_1014', `${url}: ${err.message}`, { at });
    throw new ShepherdError('preset_render_2001', `${url}: ${(err as Error).message}`, { at, cause: err });
  }
}

/**
 * Largest `file://` userdata template read: the rendered userdata is at most 64 KiB, and a template is read
 * whole and lexed before the step limit applies (the same bound as a preset file).
 */
export const MAX_USERDATA_FILE_BYTES = 256 * 1024;

class FileTooLarge extends Error {}

/** A file's text, a FileTooLarge past `max` bytes: by its size first, then by what is read (it may grow). */
async function readBounded(path: string, max: number): Promise<{ text: string; mtimeMs: number }> {
  const handle = await open(path, 'r');
  try {
    const s = await handle.stat();
    if (s.size > max) throw new FileTooLarge(`${s.size} bytes; at most ${max}`);
    const buf = Buffer.alloc(max + 1);
    let n = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buf, n, buf.length - n, n);
      if (bytesRead === 0) break;
      n += bytesRead;
      if (n > max) throw new FileTooLarge(`over ${max} bytes; at most ${max}`);
    }
    return { text: buf.subarray(0, n).toString('utf8'), mtimeMs: s.mtimeMs };
  } finally {
    await handle.close();
  }
}

export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}
