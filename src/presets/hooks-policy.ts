import type { HooksInput } from '../config/hooks-schema.js';

/** `hooks.before_terminate` compiled: times in ms; the secret by its environment variable's name only. */
export interface BeforeTerminateHook {
  url: string;
  secretEnv: string;
  timeoutMs: number;
  heartbeatMs: number;
  maxWaitMs: number;
  defaultResult: 'continue' | 'abandon';
}

/** `hooks.after_create` compiled. */
export interface AfterCreateHook {
  url: string;
  secretEnv: string;
  timeoutMs: number;
}

export interface HooksPolicy {
  beforeTerminate?: BeforeTerminateHook;
  afterCreate?: AfterCreateHook;
}

/** The preset's hooks, or undefined when it has none (the common case allocates nothing). */
export function hooksPolicyOf(h: HooksInput | undefined): HooksPolicy | undefined {
  if (!h || (!h.before_terminate && !h.after_create)) return undefined;
  const b = h.before_terminate;
  const a = h.after_create;
  return {
    ...(b
      ? {
          beforeTerminate: {
            url: b.url,
            secretEnv: b.secret_env,
            timeoutMs: b.timeout * 1000,
            heartbeatMs: (b.heartbeat_timeout ?? b.timeout) * 1000,
            maxWaitMs: (b.max_wait ?? b.timeout * 100) * 1000,
            defaultResult: b.default_result,
          },
        }
      : {}),
    ...(a ? { afterCreate: { url: a.url, secretEnv: a.secret_env, timeoutMs: a.timeout * 1000 } } : {}),
  };
}

/** `{ hooks }` to spread into a preset, or nothing. */
export function hooksOf(h: HooksInput | undefined): { hooks?: HooksPolicy } {
  const hooks = hooksPolicyOf(h);
  return hooks ? { hooks } : {};
}
