import { z } from 'zod';

export const zookeeperOptionsSchema = z.strictObject({
  servers: z
    .union([z.array(z.string().min(1)).min(1), z.string().min(1)])
    .describe('host:port of the ensemble: a list, or one comma-separated string (as the original)'),
  working_path: z
    .string()
    .regex(/^\/[^\s]*[^/\s]$|^\/$/, 'an absolute znode path without a trailing slash')
    .default('/vmshepherd')
    .describe("znode under which vmshepherd keeps its leases/ and states/ (the original's default)"),
  addauth: z
    .strictObject({
      scheme: z.string().default('digest').describe('authentication scheme'),
      auth: z.string().describe("credentials, e.g. 'user:password' (never logged)"),
    })
    .optional()
    .describe('authentication added to the session; nodes are then created readable by their creator only'),
  session_timeout: z
    .number()
    .positive()
    .default(10)
    .describe('seconds without contact after which the server ends the session and frees its leases'),
  request_timeout: z.number().positive().default(5).describe('seconds a single request may take'),
});

export type ZookeeperOptions = z.infer<typeof zookeeperOptionsSchema>;

export function serverList(servers: ZookeeperOptions['servers']): string {
  return (Array.isArray(servers) ? servers : servers.split(','))
    .map((s) => s.trim())
    .filter(Boolean)
    .join(',');
}
