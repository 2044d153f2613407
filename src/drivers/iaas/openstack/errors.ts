import type { ErrorCode } from '../../../errors/codes.js';
import { ShepherdError } from '../../../errors/shepherd-error.js';

/** What the mapping needs to know about a failed response. */
export interface FailedResponse {
  status: number;
  /** Parsed JSON body, or the raw text when it was not JSON. */
  body: unknown;
  retryAfter?: string | null;
  /** `GET compute /servers/x`, for the message (never a token or a body with secrets). */
  call: string;
  /** The call was to Keystone's token endpoint. */
  auth?: boolean;
}

/** OpenStack services nest the message differently: Nova `{forbidden: {message}}`, Keystone `{error: {message}}`, Neutron `{NeutronError: {message}}`, Glance text. */
export function messageOf(body: unknown, depth = 0): string | undefined {
  if (typeof body === 'string')
    return (
      body
        .replace(/<[^>]+>/g, ' ')
        .replace(/\s+/g, ' ')
        .trim() || undefined
    );
  if (!body || typeof body !== 'object' || depth > 3) return undefined;
  const o = body as Record<string, unknown>;
  if (typeof o.message === 'string') return o.message;
  if (typeof o.faultstring === 'string') return o.faultstring;
  for (const v of Object.values(o)) {
    const m = messageOf(v, depth + 1);
    if (m) return m;
  }
  return undefined;
}

// One word between: Neutron's "Maximum number of ports exceeded", never Nova's "Exceeded maximum number of
// retries. Exceeded max scheduling attempts" (a build that failed on every host it tried).
const QUOTA = /quota|maximum number of \w+ exceeded|limit exceeded/i;
const NO_VALID_HOST = /no valid host/i;
/** Nova's InstanceNotFound (`Instance <id> could not be found.`), or a 404 on a server's own path. */
const INSTANCE_NOT_FOUND = /instance \S+ could not be found/i;
const SERVER_PATH = /^\S+ compute \/servers\/(?!detail$)[^/]+(\/|$)/;
/** Nova's InstanceInvalidState: `Cannot 'os-start' instance <id> while it is in vm_state active`. */
const WRONG_STATE = /while it is in (vm_state|task_state)|in (vm_state|task_state) \S+/i;
/** A capability the cloud lacks: Nova's 501 (a virt driver without the operation), 406 (microversion too new). */
const NOT_IMPLEMENTED = /not implemented|not supported by the API/i;

/** The catalogue code of a failed OpenStack response (pure: the table the driver's error handling follows). */
export function codeOf(r: Pick<FailedResponse, 'status' | 'body' | 'auth'> & { call?: string }): ErrorCode {
  const msg = messageOf(r.body) ?? '';
  const typed = computeCode(r.status, msg, r.call ?? '');
  if (typed) return typed;
  if (r.auth && (r.status === 401 || r.status === 403 || r.status === 404)) return 'openstack_auth_0001';
  if (r.status === 429) return 'openstack_call_0001';
  if ((r.status === 403 || r.status === 413) && QUOTA.test(msg)) return 'openstack_create_0001';
  if (NO_VALID_HOST.test(msg)) return 'openstack_create_0002';
  if (r.status === 413) return 'openstack_call_0001'; // older Nova: 413 overLimit is a rate limit
  if (r.status === 401) return 'openstack_auth_0001';
  if (r.status === 403) return 'openstack_call_0005';
  if (r.status === 404) return 'openstack_call_0003';
  if (r.status === 409) return 'openstack_call_0002';
  if (r.status >= 500) return 'openstack_call_2003';
  return 'openstack_call_0004';
}

/**
 * The typed compute errors, as a compute driver interface names them (Octavia's: not implemented, instance
 * not found, wrong state), where the answer says which. Pure.
 */
export function computeCode(status: number, msg: string, call: string): ErrorCode | undefined {
  if (status === 501 || (status === 406 && NOT_IMPLEMENTED.test(msg))) return 'openstack_compute_0001';
  if (status === 404 && (INSTANCE_NOT_FOUND.test(msg) || SERVER_PATH.test(call)))
    return 'openstack_compute_0002';
  if (status === 409 && WRONG_STATE.test(msg)) return 'openstack_compute_0003';
  return undefined;
}

/** Retry-After as seconds or an HTTP date, in ms; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null | undefined, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const s = Number(header);
  if (Number.isFinite(s) && s >= 0) return s * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export function responseError(r: FailedResponse): ShepherdError {
  const code = codeOf(r);
  const msg = messageOf(r.body);
  const wait = retryAfterMs(r.retryAfter);
  return new ShepherdError(code, `${r.call}: HTTP ${r.status}${msg ? ` ${msg.slice(0, 500)}` : ''}`, {
    details: { status: r.status, call: r.call },
    ...(wait !== undefined ? { retryAfterMs: wait } : {}),
  });
}

/**
 * Node's codes for a certificate the handshake did not trust (self-signed, unknown issuer, expired, wrong
 * host): a setting to fix, not an outage to wait out.
 */
const TLS_TRUST = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/;

/**
 * A request that got no answer: timed out (ambiguous: it may have taken effect), failed to connect, or
 * refused the server's certificate.
 */
export function transportError(err: unknown, call: string, timedOut: boolean): ShepherdError {
  const inner = err instanceof Error ? (err.cause as (Error & { code?: unknown }) | undefined) : undefined;
  const cause = err instanceof Error ? (inner?.message ?? err.message) : String(err);
  const code = timedOut
    ? 'openstack_call_2002'
    : TLS_TRUST.test(String(inner?.code ?? ''))
      ? 'openstack_tls_0001'
      : 'openstack_call_2001';
  return new ShepherdError(code, `${call}: ${cause}`, {
    cause: err,
    details: { call },
  });
}

/** The code a server fault carries on the VM: capacity when Nova found no host, else a build error. */
export function faultCode(message: string): ErrorCode {
  if (NO_VALID_HOST.test(message)) return 'openstack_create_0002';
  if (QUOTA.test(message)) return 'openstack_create_0001';
  return 'openstack_boot_2001';
}
