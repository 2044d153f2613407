import { liftDriverParams } from '../config/driver-block.js';
import { deepMerge, isPlainObject } from '../util/deep-merge.js';

/**
 * `iaas:` and `healthcheck:` are deep-merged over the defaults, as in the original, unless the preset
 * names another driver (then the defaults' options belong to a different driver and are dropped).
 * Other default keys (new in vmshepherd) are deep-merged the same way.
 */
export function mergeWithDefaults(
  defaults: Record<string, unknown>,
  raw: Record<string, unknown>,
): Record<string, unknown> {
  const merged = deepMerge(defaults, raw) as Record<string, unknown>;
  for (const block of ['iaas', 'healthcheck']) {
    const own = liftDriverParams(raw[block]);
    const base = liftDriverParams(defaults[block]);
    const ownDriver = isPlainObject(own) ? own.driver : undefined;
    const baseDriver = isPlainObject(base) ? base.driver : undefined;
    merged[block] = ownDriver && baseDriver && ownDriver !== baseDriver ? own : deepMerge(base, own);
    if (merged[block] === undefined) delete merged[block];
  }
  return merged;
}
