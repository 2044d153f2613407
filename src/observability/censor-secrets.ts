/**
 * Keys whose values never reach a log line, wherever they appear. Driver options are never logged as a
 * whole; this is the second line of defence.
 */
export const REDACTED_KEYS = [
  'password',
  'secret',
  'token',
  'api_key',
  'api_secret',
  'auth',
  'addauth',
  'application_credential_secret',
  'options',
];

export const CENSOR = '[redacted]';
/** Deeper than this, a value is not logged at all (a cycle, or a structure no log line needs). */
export const MAX_LOG_DEPTH = 32;

const KEYS = new Set(REDACTED_KEYS);

/**
 * `value` with the value of every key of REDACTED_KEYS replaced by `[redacted]`, at any depth (pure):
 * plain objects, arrays and class instances without `toJSON` are walked; what is deeper than
 * MAX_LOG_DEPTH is replaced by `[too deep]`. Copy on write: what holds no such key is returned as it is,
 * so a log line without secrets costs a walk over its keys and no allocation; the caller's objects are
 * never changed. Errors are left to the error serializer, whose output goes through this too.
 */
export function censorSecrets<T>(value: T): T {
  return censor(value, 0) as T;
}

function censor(v: unknown, depth: number): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (depth >= MAX_LOG_DEPTH) return '[too deep]';
  if (Array.isArray(v)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const c = censor(v[i], depth + 1);
      if (c !== v[i]) {
        out ??= v.slice();
        out[i] = c;
      }
    }
    return out ?? v;
  }
  if (v instanceof Error || typeof (v as { toJSON?: unknown }).toJSON === 'function') return v;
  const o = v as Record<string, unknown>;
  let out: Record<string, unknown> | undefined;
  for (const key in o) {
    if (!Object.hasOwn(o, key)) continue;
    const value = o[key];
    const c = KEYS.has(key) ? (value === undefined ? value : CENSOR) : censor(value, depth + 1);
    if (c !== value) {
      out ??= { ...o };
      out[key] = c;
    }
  }
  return out ?? v;
}
