import { z } from 'zod';

/**
 * Options of OpenStackDriver. The original's keys (auth_url, username, password, project_name,
 * user_domain_name, project_domain_name, http_timeout) keep their meaning, and `image_owner_ids` of its
 * example does what the example meant (the original left that filter a to-do); the rest is new. Any key left
 * out is taken from `clouds.yaml` (`cloud:`) and then from the `OS_*` environment, as the OpenStack CLI does.
 */
export const openStackOptionsSchema = z.strictObject({
  cloud: z.string().optional().describe('entry of clouds.yaml to read the credentials from (like OS_CLOUD)'),
  clouds_file: z
    .string()
    .optional()
    .describe(
      'path of clouds.yaml; default: OS_CLIENT_CONFIG_FILE, ./clouds.yaml, ~/.config/openstack, /etc/openstack',
    ),
  auth_url: z.string().optional().describe('Keystone v3 URL, e.g. https://keystone.example:5000/v3'),
  username: z.string().optional(),
  user_id: z.string().optional(),
  password: z.string().optional(),
  project_name: z.string().optional(),
  project_id: z.string().optional(),
  user_domain_name: z.string().optional(),
  user_domain_id: z.string().optional(),
  project_domain_name: z.string().optional(),
  project_domain_id: z.string().optional(),
  application_credential_id: z.string().optional(),
  application_credential_name: z.string().optional(),
  application_credential_secret: z.string().optional(),
  region_name: z.string().optional().describe('region of the endpoints taken from the catalog'),
  interface: z
    .enum(['public', 'internal', 'admin'])
    .optional()
    .describe('endpoint interface taken from the catalog (default public)'),
  http_timeout: z.number().positive().default(10).describe('seconds per API request (the original: 10)'),
  image_owner_ids: z
    .array(z.string().min(1))
    .optional()
    .describe(
      'project ids: an image named by a preset is taken only from images these projects own (Glance `owner`)',
    ),
  cacert: z.string().optional().describe('PEM file of the CA bundle that signs the API certificates'),
  insecure: z.boolean().default(false).describe('skip TLS certificate checks (only when asked)'),
  cache_ttl: z
    .number()
    .nonnegative()
    .default(300)
    .describe('seconds flavors, images and networks are cached (refreshed earlier on a miss)'),
  page_size: z
    .number()
    .int()
    .positive()
    .max(1000)
    .default(1000)
    .describe("servers and images per listing page; at most Nova's [api] max_limit (1000 unless lowered)"),
  reboot_type: z.enum(['SOFT', 'HARD']).default('HARD').describe('how the reboot remedy reboots a server'),
  resize_timeout: z
    .number()
    .positive()
    .default(300)
    .describe('seconds a resize may take before its confirmation is given up'),
});

export type OpenStackOptions = z.output<typeof openStackOptionsSchema>;
