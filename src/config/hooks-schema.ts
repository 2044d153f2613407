import { z } from 'zod';

// The `hooks:` block of a preset (docs/hooks.md): notices POSTed to a receiver before a VM is terminated
// and after a new VM first passes its checks.

/**
 * The secret is named, never written: an environment variable of the daemon. Only names under
 * VMSHEPHERD_HOOK_ are accepted, so whoever writes a preset cannot have another secret of the daemon
 * (a cloud password) used as a signing key and attack it offline from signed notices.
 */
export const HOOK_SECRET_ENV = /^VMSHEPHERD_HOOK_[A-Z0-9_]+$/;

const url = z
  .string()
  .regex(/^https?:\/\/\S+$/, 'an http:// or https:// URL')
  .describe('where the JSON notice is POSTed');
const secretEnv = z
  .string()
  .regex(HOOK_SECRET_ENV, 'an environment variable named VMSHEPHERD_HOOK_…')
  .describe(
    'the environment variable holding the shared secret that signs each notice (HMAC-SHA256); never the secret itself',
  );

export const beforeTerminateSchema = z.strictObject({
  url,
  secret_env: secretEnv,
  timeout: z
    .number()
    .positive()
    .default(300)
    .describe('seconds the VM waits (terminating:wait) for an answer before default_result applies'),
  heartbeat_timeout: z
    .number()
    .positive()
    .optional()
    .describe('seconds a heartbeat extends the wait by from when it arrives (default: timeout)'),
  max_wait: z
    .number()
    .positive()
    .optional()
    .describe('seconds a VM may wait in all, heartbeats included (default: 100 × timeout)'),
  default_result: z
    .enum(['continue', 'abandon'])
    .default('continue')
    .describe('what a wait that timed out comes to; both terminate the VM (abandon: recorded as such)'),
});

export const afterCreateSchema = z.strictObject({
  url,
  secret_env: secretEnv,
  timeout: z.number().positive().default(10).describe('seconds one delivery of the notice may take'),
});

export const hooksSchema = z
  .strictObject({
    before_terminate: beforeTerminateSchema.optional(),
    after_create: afterCreateSchema.optional(),
  })
  .describe(
    'lifecycle hooks (docs/hooks.md): signed notices before a VM is terminated and after one is ready',
  );

export type HooksInput = z.output<typeof hooksSchema>;
