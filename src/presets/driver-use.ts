import type { DriverOptionsValidator } from '../config/driver-block.js';
import { liftDriverParams, splitBlock } from '../config/driver-block.js';
import type { SourceLayer } from '../config/report-issues.js';
import { ShepherdError } from '../errors/shepherd-error.js';
import { credentialRedirect } from './credential-redirect.js';
import { positionOf } from './position-of.js';
import type { DriverUse } from './preset.js';

const DRIVER_CODES = { invalid: 'driver_options_1001', unknown: 'preset_load_1003' } as const;

/**
 * A preset's `iaas:` or `healthcheck:` block validated by its driver, or undefined with the errors pushed;
 * a block that would send the main configuration's credentials elsewhere is refused (credentialRedirect).
 */
export async function driverUse(
  ctx: { validator: DriverOptionsValidator; presetsMaySetEndpoints?: boolean },
  kind: 'iaas' | 'healthcheck',
  block: Record<string, unknown>,
  coreKeys: readonly string[],
  layers: SourceLayer[],
  errors: ShepherdError[],
  warnings: ShepherdError[],
  own?: unknown,
): Promise<DriverUse | undefined> {
  const driver = String(block.driver);
  const { options } = splitBlock(block, coreKeys);
  const v = await ctx.validator.validate(kind, driver, options, layers, [kind], coreKeys, DRIVER_CODES);
  errors.push(...v.errors);
  warnings.push(...v.warnings);
  const routes = v.definition?.credentialRoutes;
  if (routes && !ctx.presetsMaySetEndpoints) {
    const redirect = credentialRedirect(routes, liftDriverParams(own), options);
    if (redirect)
      errors.push(
        new ShepherdError('preset_load_1012', redirect.message, {
          at: positionOf([kind, redirect.key], layers),
        }),
      );
  }
  return v.options ? { driver, options: v.options } : undefined;
}
