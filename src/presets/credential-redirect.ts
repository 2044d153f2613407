import type { DriverDefinition } from '../drivers/types.js';
import { isPlainObject } from '../util/deep-merge.js';

/**
 * Why a preset's own driver block would send credentials it did not bring to an endpoint it set (pure),
 * or null. Whoever can write a preset (a git push) must not be able to collect the cloud's password: a
 * preset that sets an endpoint brings every secret the driver will use, so it may neither inherit one
 * from the defaults (an OpenStack application credential wins over the preset's own password) nor let the
 * driver take credentials from outside its options (`outside`: clouds.yaml, the OS_* environment).
 */
export function credentialRedirect(
  routes: NonNullable<DriverDefinition['credentialRoutes']>,
  own: unknown,
  merged: Record<string, unknown> = isPlainObject(own) ? own : {},
): { key: string; message: string } | null {
  if (!isPlainObject(own)) return null;
  const endpoints = routes.endpoints.filter((k) => own[k] !== undefined);
  const [key] = endpoints;
  if (key === undefined) return null;
  const sets = `the preset sets ${endpoints.join(', ')}`;
  if (!routes.secrets.some((k) => own[k] !== undefined))
    return {
      key,
      message: `${sets} but not its own ${routes.secrets.join(' or ')}: the main configuration's credentials would go there`,
    };
  const inherited = routes.secrets.filter((k) => merged[k] !== undefined && own[k] === undefined);
  if (inherited.length > 0)
    return {
      key,
      message: `${sets} but inherits ${inherited.join(', ')} from the main configuration, which would go there: a preset with an endpoint of its own brings all of its credentials`,
    };
  const outside = routes.outside?.(merged);
  if (outside)
    return {
      key,
      message: `${sets} but the driver would take credentials from ${outside}, which would go there: a preset with an endpoint of its own brings all of its credentials in its iaas block`,
    };
  return null;
}
