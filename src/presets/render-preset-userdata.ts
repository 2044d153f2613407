import { resolve } from 'node:path';
import type { PresetOutput } from '../config/preset-schema.js';
import type { SourceLayer } from '../config/report-issues.js';
import type { PresetSource } from '../drivers/types.js';
import { ShepherdError } from '../errors/shepherd-error.js';
import { positionOf } from './position-of.js';
import {
  isInside,
  markWholeFloats,
  readUserdataFile,
  renderTemplate,
  templateContext,
} from './render-userdata.js';

/** A file the compiled preset depends on besides its own (file:// userdata): recompiled when it changes. */
export interface Dependency {
  path: string;
  mtimeMs: number;
}

/** A preset's `userdata:` rendered (inline or `file://`), with the file it read added to `dependencies`. */
export async function renderPresetUserdata(
  p: PresetOutput,
  merged: Record<string, unknown>,
  source: PresetSource,
  raw: Record<string, unknown>,
  layers: SourceLayer[],
  trustedUserdataRoot: string | undefined,
  dependencies: Dependency[],
): Promise<string | undefined> {
  if (!p.userdata) return undefined;
  const at = positionOf(['userdata'], layers);
  const context = userdataContext(merged, layers);
  if (!p.userdata.startsWith('file://')) return renderTemplate(p.userdata, context, at);
  const root = userdataRoot(source, raw, trustedUserdataRoot, layers);
  const file = await readUserdataFile(p.userdata, root, at);
  dependencies.push({ path: file.path, mtimeMs: file.mtimeMs });
  return renderTemplate(file.text, context, { file: file.path, line: 1, col: 1 }, { ownFile: true });
}

/**
 * What the template sees (templateContext), with the numbers that the preset file or the config's
 * defaults wrote as whole floats marked as floats; a preset's own value hides the default's.
 */
function userdataContext(merged: Record<string, unknown>, layers: SourceLayer[]): Record<string, unknown> {
  const context = templateContext(merged);
  const [own, ...below] = layers;
  for (const layer of below) {
    const prefix = layer.prefix;
    const paths = layer.source
      .wholeFloatPaths()
      .filter((path) => prefix.every((key, i) => path[i] === key))
      .map((path) => path.slice(prefix.length));
    markWholeFloats(context, paths, (path) => own?.source.has(path) ?? false);
  }
  if (own) markWholeFloats(context, own.source.wholeFloatPaths());
  return context;
}

/**
 * The directory `file://` userdata is read from: the main config's `userdata_source_root` (set by the
 * operator) or the store's directory. A preset may narrow it to a subdirectory, never widen it.
 */
function userdataRoot(
  source: PresetSource,
  raw: Record<string, unknown>,
  trustedRoot: string | undefined,
  layers: SourceLayer[],
): string {
  const base = trustedRoot ?? source.sourceRoot;
  const own = raw.userdata_source_root;
  if (typeof own !== 'string') return base;
  const narrowed = resolve(source.sourceRoot, own);
  if (!isInside(base, narrowed)) {
    throw new ShepherdError('preset_render_1002', `userdata_source_root '${own}' is outside ${base}`, {
      at: positionOf(['userdata_source_root'], layers),
    });
  }
  return narrowed;
}
