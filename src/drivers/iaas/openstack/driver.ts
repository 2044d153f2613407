import { createHash } from 'node:crypto';
import type { z } from 'zod';
import { defineDriver, type IaasDriver } from '../../types.js';
import { zodOptions } from '../../zod-options.js';
import { defaultSources, resolveCredentials } from './credentials.js';
import type { OpenStackCloud } from './openstack-cloud.js';
import { type OpenStackOptions, openStackOptionsSchema } from './options.js';

const live = new Set<OpenStackCloud>();

/** The OpenStack driver instances of this process, for benchmarks that count API requests. */
export function openStackClouds(): OpenStackCloud[] {
  return [...live];
}

/**
 * OpenStack (Keystone v3, Nova, Glance v2, Neutron) over its REST APIs. Presets with equal options share
 * one instance: one token, one set of caches, one listing per cycle.
 */
export const openStackDriver = defineDriver({
  kind: 'iaas',
  name: 'OpenStackDriver',
  description: 'OpenStack Nova servers; credentials from options, clouds.yaml or OS_* variables',
  ...zodOptions(openStackOptionsSchema as z.ZodObject),
  credentialRoutes: {
    endpoints: ['auth_url', 'cloud', 'clouds_file', 'cacert', 'insecure'],
    secrets: ['password', 'application_credential_secret'],
    // As resolveCredentials reads them: a clouds.yaml entry, else without auth_url the OS_* environment.
    outside: (o) =>
      o.cloud
        ? `the clouds.yaml entry '${String(o.cloud)}'`
        : !o.auth_url
          ? 'the OS_* environment'
          : undefined,
  },
  // A digest: the key identifies the account in memory and must not carry the password along.
  accountKey: (o) => createHash('sha256').update(JSON.stringify(o)).digest('hex'),
  // Imported when used (see BUILTIN_DRIVERS).
  create: async (options, ctx): Promise<IaasDriver> => {
    const { OpenStackCloud } = await import('./openstack-cloud.js');
    const o = options as OpenStackOptions;
    const creds = resolveCredentials(
      o,
      defaultSources((p) => ctx.resolvePath(p)),
    );
    if (creds.cacert) creds.cacert = ctx.resolvePath(creds.cacert);
    const cloud = new OpenStackCloud(creds, o, ctx.clock);
    live.add(cloud);
    const close = cloud.close.bind(cloud);
    cloud.close = async () => {
      live.delete(cloud);
      await close();
    };
    return cloud;
  },
});
