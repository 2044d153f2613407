import { z } from 'zod';

/** SQL identifiers we interpolate (schema, table prefix): plain names only, so quoting is never needed. */
const identifier = z
  .string()
  .regex(/^[a-z_][a-z0-9_]*$/, 'lower-case letters, digits and underscores, not starting with a digit');

export const postgresOptionsSchema = z.strictObject({
  url: z
    .string()
    .optional()
    .describe('postgres://user:password@host:port/database; the separate options override its parts'),
  host: z.string().optional().describe('server host (default: PGHOST, else localhost)'),
  port: z.number().int().min(1).max(65535).optional().describe('server port (default 5432)'),
  database: z.string().optional().describe('database name'),
  user: z.string().optional().describe('user name'),
  password: z.string().optional().describe('password (never logged)'),
  pool_size: z.number().int().positive().default(10).describe('connections kept open'),
  ssl: z
    .union([
      z.boolean(),
      z.strictObject({
        reject_unauthorized: z.boolean().default(true).describe('verify the server certificate'),
        ca: z.string().optional().describe('path of the CA certificate (PEM)'),
      }),
    ])
    .default(false)
    .describe('TLS to the server: true, or {reject_unauthorized, ca}'),
  schema: identifier.default('public').describe('schema holding the tables (created when missing)'),
  table_prefix: identifier
    .default('vmshepherd_')
    .describe("prefix of vmshepherd's tables; the original's preset_states table is never touched"),
  connect_timeout: z.number().positive().default(5).describe('seconds to wait for a connection'),
  query_timeout: z.number().positive().default(10).describe('seconds a statement may take'),
});

export type PostgresOptions = z.infer<typeof postgresOptionsSchema>;
