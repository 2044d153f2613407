import type { SourceLayer } from '../config/report-issues.js';
import type { SourcePosition } from '../errors/shepherd-error.js';

/** Where `path` is written: in the first layer (the preset, then the defaults) that has it, else the file's start. */
export function positionOf(path: string[], layers: SourceLayer[]): SourcePosition {
  for (const { source, prefix } of layers)
    if (source.has([...prefix, ...path])) return source.position([...prefix, ...path]);
  return layers[0]?.source.position([]) ?? { file: '?', line: 1, col: 1 };
}
