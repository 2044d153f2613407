import { createHmac, timingSafeEqual } from 'node:crypto';

// Signatures of hook notices (docs/hooks.md): `X-Vmshepherd-Signature: t=<unix seconds>,v1=<hex>` where
// the hex is HMAC-SHA256(secret, `${t}.${body}`). The timestamp is signed with the body, so a receiver
// that checks it against its own clock refuses a notice replayed later.

export const HOOK_SIGNATURE_HEADER = 'x-vmshepherd-signature';

/** How far a notice's timestamp may be from the receiver's clock by default (seconds). */
export const HOOK_TOLERANCE_SEC = 300;

function digest(secret: string, t: number, body: string): string {
  return createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
}

/** The signature header's value for `body` (the exact bytes sent) at `nowMs`. */
export function signHookBody(secret: string, body: string, nowMs: number = Date.now()): string {
  const t = Math.floor(nowMs / 1000);
  return `t=${t},v1=${digest(secret, t, body)}`;
}

export interface HookVerification {
  ok: boolean;
  /** Why a notice is refused: no or malformed header, a stale timestamp (a replay?), a wrong signature. */
  reason?: 'missing' | 'malformed' | 'stale' | 'mismatch';
}

/**
 * For receivers: checks a notice's signature header against the raw body as received (not re-serialised
 * JSON) and the shared secret, and refuses a timestamp further than `toleranceSec` from `nowMs`. Compares
 * in constant time.
 */
export function verifyHookSignature(
  secret: string,
  header: string | null | undefined,
  body: string | Uint8Array,
  options: { toleranceSec?: number; nowMs?: number } = {},
): HookVerification {
  if (!header) return { ok: false, reason: 'missing' };
  const fields = new Map<string, string[]>();
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return { ok: false, reason: 'malformed' };
    const key = part.slice(0, eq).trim();
    fields.set(key, [...(fields.get(key) ?? []), part.slice(eq + 1).trim()]);
  }
  const t = Number(fields.get('t')?.[0]);
  const signatures = fields.get('v1') ?? [];
  if (!Number.isInteger(t) || signatures.length === 0) return { ok: false, reason: 'malformed' };
  const tolerance = options.toleranceSec ?? HOOK_TOLERANCE_SEC;
  if (Math.abs((options.nowMs ?? Date.now()) / 1000 - t) > tolerance) return { ok: false, reason: 'stale' };
  const text = typeof body === 'string' ? body : Buffer.from(body).toString('utf8');
  const expected = Buffer.from(digest(secret, t, text), 'hex');
  // Several v1 values are accepted, so that a receiver may be given two during a change of secret.
  const ok = signatures.some((s) => {
    const given = Buffer.from(s, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  return ok ? { ok: true } : { ok: false, reason: 'mismatch' };
}
